// Event timestamps are CLOCK_BOOTTIME ns (bpf_ktime_get_boot_ns); people want wall time.
import { addon } from './addon.ts';

export function boottimeNs(): bigint {
  return addon.boottimeNs();
}

/** Epoch ms minus boot-time ms, read now. Moves only when the wall clock is set. */
export function bootToWallOffsetMs(): number {
  const boot = addon.boottimeNs();
  const wall = addon.realtimeNs();
  return Number(wall - boot) / 1e6;
}
