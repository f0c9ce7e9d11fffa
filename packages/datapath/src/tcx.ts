// tcx attachment (Linux 6.6+): a BPF link per hook, pinned in bpffs, so the
// program stays attached after the process that attached it exits and can be
// replaced or detached later through the pin.
import { addon } from './addon.ts';
import type { TcDirection } from './tc.ts';

/** Attaches `progFd` at the hook through the link pinned at `pinPath`, creating and
 * pinning the link if there is none (or only a defunct one). An existing link gets
 * the new program atomically. False when the kernel has no tcx. */
export function attachTcxProgram(ifindex: number, direction: TcDirection, progFd: number, pinPath: string): boolean {
  return addon.tcxAttach(ifindex, direction, progFd, pinPath);
}

/** Detaches the link pinned at `pinPath` (even if another process holds it open) and
 * unpins it. Idempotent: false when nothing was pinned there. */
export function detachTcxProgram(pinPath: string): boolean {
  return addon.tcxDetach(pinPath);
}

/** Ids of all programs on the tcx hook, in run order, whoever attached them. */
export function tcxProgramIds(ifindex: number, direction: TcDirection): number[] {
  return addon.tcxQuery(ifindex, direction);
}
