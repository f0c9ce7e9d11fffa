import type { Flow } from '@tycho/flow';
import type { DnsRecord } from '@tycho/policy';

export interface FqdnCacheOptions {
  /** Most addresses held; learning one more forgets the least recently learned. */
  maxAddresses?: number;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
  /** Called after a name was learned (toFQDNs policy depends on the cache). */
  onLearn?: () => void;
}

const DEFAULT_MAX_ADDRESSES = 16_384;

/**
 * IP → DNS names learned from DNS answers seen on this node, each until its
 * TTL runs out. One cache per node, not per pod as Cilium keeps it: a name
 * one pod resolved also labels another pod's flows to that address.
 */
export class FqdnCache {
  private readonly byIp = new Map<string, Map<string, number>>();
  private readonly maxAddresses: number;
  private readonly now: () => number;
  private readonly onLearn: (() => void) | undefined;

  constructor(options: FqdnCacheOptions = {}) {
    this.maxAddresses = options.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
    this.now = options.now ?? Date.now;
    this.onLearn = options.onLearn;
  }

  get size(): number {
    return this.byIp.size;
  }

  /** `name` without the trailing dot, as Hubble shows names on flows. */
  learn(ip: string, name: string, ttlSeconds: number): void {
    const expiresMs = this.now() + ttlSeconds * 1000;
    const names = this.byIp.get(ip) ?? new Map<string, number>();
    this.byIp.delete(ip);
    names.set(name, Math.max(expiresMs, names.get(name) ?? 0));
    this.byIp.set(ip, names);
    if (this.byIp.size > this.maxAddresses) {
      const oldest = this.byIp.keys().next().value;
      if (oldest !== undefined) this.byIp.delete(oldest);
    }
    this.onLearn?.();
  }

  /** Every live (name, address) pair with its expiry, as the policy resolver takes them. */
  records(): DnsRecord[] {
    const nowMs = this.now();
    const out: DnsRecord[] = [];
    for (const [ip, names] of this.byIp) {
      for (const [name, expiresAtMs] of names) if (expiresAtMs > nowMs) out.push({ name, ip, expiresAtMs });
    }
    return out;
  }

  /** The names of `ip` whose TTL has not run out, sorted; forgets the others. */
  namesOf(ip: string): string[] | undefined {
    const names = this.byIp.get(ip);
    if (!names) return undefined;
    const nowMs = this.now();
    const live: string[] = [];
    for (const [name, expiresMs] of names) {
      if (expiresMs > nowMs) live.push(name);
      else names.delete(name);
    }
    if (live.length === 0) {
      this.byIp.delete(ip);
      return undefined;
    }
    return live.sort();
  }

  /** Sets `source_names` / `destination_names` of a flow from the cache; nearly free while it is empty. */
  label(flow: Flow): void {
    if (this.byIp.size === 0 || !flow.IP) return;
    const sourceNames = this.namesOf(flow.IP.source);
    const destinationNames = this.namesOf(flow.IP.destination);
    if (sourceNames) flow.source_names = sourceNames;
    if (destinationNames) flow.destination_names = destinationNames;
  }
}
