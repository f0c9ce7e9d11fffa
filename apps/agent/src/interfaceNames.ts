import { readdirSync, readFileSync } from 'node:fs';

/**
 * ifindex → interface name in this network namespace, from /sys/class/net.
 * Re-read when an unknown index is asked for, at most once a second.
 */
export function createInterfaceNameLookup(sysClassNet = '/sys/class/net', now: () => number = Date.now) {
  let names = new Map<number, string>();
  let lastScanMs = Number.NEGATIVE_INFINITY;

  function scan(): void {
    const next = new Map<number, string>();
    let entries: string[] = [];
    try {
      entries = readdirSync(sysClassNet);
    } catch {
      // Without sysfs there are no names to offer; flows keep the index alone.
    }
    for (const name of entries) {
      try {
        next.set(Number.parseInt(readFileSync(`${sysClassNet}/${name}/ifindex`, 'utf8'), 10), name);
      } catch {
        // The interface disappeared while we were listing.
      }
    }
    names = next;
    lastScanMs = now();
  }

  return {
    nameOf(ifindex: number): string | undefined {
      if (!names.has(ifindex) && now() - lastScanMs >= 1000) scan();
      return names.get(ifindex);
    },
  } as const;
}
