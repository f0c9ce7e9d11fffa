import { MIN_WORKLOAD_IDENTITY, ReservedIdentity, type ReservedIdentityName, reservedIdentityLabels } from '@tycho/flow';
import { formatPrefix, type Prefix, parsePrefix, hostPrefix } from './cidr.ts';

/** A security identity: a number and the label set it stands for (`k8s:app=x`, `reserved:world`, `cidr:…`). */
export interface Identity {
  readonly id: number;
  readonly labels: readonly string[];
}

/** Identity 0: "any identity" in policy entries (never a real peer). */
export const ANY_IDENTITY = 0;

/**
 * Cilium's local identity scope (bit 24): identities allocated by one node
 * only, for CIDR and FQDN-derived addresses. The first one is 16777217
 * (Cilium's MinLocalIdentity = 1 | 1<<24), the last 33554431.
 */
export const LOCAL_IDENTITY_SCOPE = 1 << 24;
export const MIN_LOCAL_IDENTITY = LOCAL_IDENTITY_SCOPE + 1;
export const MAX_LOCAL_IDENTITY = LOCAL_IDENTITY_SCOPE + 0xffffff;

/** Every reserved identity with its labels (`reserved:host`, …). */
export function reservedIdentities(): Identity[] {
  return (Object.entries(ReservedIdentity) as [ReservedIdentityName, number][]).map(([name, id]) => ({ id, labels: reservedIdentityLabels(name) }));
}

/** Workload identities allocated cluster-wide (256 up to the local scope). */
export function isClusterWorkloadIdentity(id: number): boolean {
  return id >= MIN_WORKLOAD_IDENTITY && id < LOCAL_IDENTITY_SCOPE;
}

/** `cidr:10.0.0.0/8`; IPv6 colons become dashes, as in Cilium's CIDR labels. */
export function cidrLabel(prefix: Prefix): string {
  return `cidr:${formatPrefix(prefix).replaceAll(':', '-')}`;
}

/** The prefix a CIDR identity stands for, from its `cidr:` label; undefined for other identities. */
export function prefixOfIdentity(identity: Identity): Prefix | undefined {
  for (const label of identity.labels) {
    if (!label.startsWith('cidr:')) continue;
    const text = label.slice('cidr:'.length);
    const parsed = parsePrefix(text.includes('.') ? text : text.replaceAll('-', ':'));
    if (typeof parsed !== 'string') return parsed;
  }
  return undefined;
}

/**
 * Local identities for the CIDRs that policies and DNS answers need (see
 * `requiredCidrs`). Numbers stay stable while a prefix stays needed; a
 * released number is not reused before the allocator wraps around.
 */
export class CidrIdentityAllocator {
  private readonly byPrefix = new Map<string, Identity>();
  private readonly used = new Set<number>();
  private next = MIN_LOCAL_IDENTITY;

  /** Makes the allocated set equal to `prefixes` (canonical CIDR strings); reports what changed. */
  sync(prefixes: Iterable<string>): { added: Identity[]; removed: Identity[] } {
    const wanted = new Set<string>();
    for (const text of prefixes) {
      // Canonical texts already allocated need no parsing: a sync with nothing new stays cheap.
      if (this.byPrefix.has(text)) {
        wanted.add(text);
        continue;
      }
      const prefix = parsePrefix(text, true);
      if (typeof prefix === 'string') throw new Error(`CidrIdentityAllocator: ${prefix}`);
      wanted.add(formatPrefix(prefix));
    }
    const removed: Identity[] = [];
    for (const [key, identity] of this.byPrefix) {
      if (!wanted.has(key)) {
        this.byPrefix.delete(key);
        this.used.delete(identity.id);
        removed.push(identity);
      }
    }
    const added: Identity[] = [];
    for (const key of wanted) {
      if (this.byPrefix.has(key)) continue;
      const prefix = parsePrefix(key) as Prefix;
      const identity: Identity = { id: this.allocateNumber(), labels: [cidrLabel(prefix), 'reserved:world'] };
      this.byPrefix.set(key, identity);
      this.used.add(identity.id);
      added.push(identity);
    }
    return { added, removed };
  }

  identities(): Identity[] {
    return [...this.byPrefix.values()];
  }

  private allocateNumber(): number {
    if (this.used.size > MAX_LOCAL_IDENTITY - MIN_LOCAL_IDENTITY) throw new Error('CidrIdentityAllocator: local identity space exhausted');
    for (;;) {
      const candidate = this.next;
      this.next = candidate >= MAX_LOCAL_IDENTITY ? MIN_LOCAL_IDENTITY : candidate + 1;
      if (!this.used.has(candidate)) return candidate;
    }
  }
}

/** Per list of CIDR identities: their prefixes by family and length, most specific first (longest-prefix match by lookups). */
const worldIndexes = new WeakMap<readonly Identity[], Map<4 | 6, Map<number, Map<bigint, number>>>>();

function worldIndexOf(cidrIdentities: readonly Identity[]): Map<4 | 6, Map<number, Map<bigint, number>>> {
  let index = worldIndexes.get(cidrIdentities);
  if (index) return index;
  index = new Map();
  for (const identity of cidrIdentities) {
    const prefix = prefixOfIdentity(identity);
    if (!prefix) continue;
    let byLength = index.get(prefix.family);
    if (!byLength) index.set(prefix.family, (byLength = new Map()));
    let byAddress = byLength.get(prefix.length);
    if (!byAddress) byLength.set(prefix.length, (byAddress = new Map()));
    byAddress.set(prefix.address, identity.id);
  }
  for (const [family, byLength] of index) index.set(family, new Map([...byLength].sort(([a], [b]) => b - a)));
  worldIndexes.set(cidrIdentities, index);
  return index;
}

/**
 * The identity of an address outside the cluster: the CIDR identity of its
 * longest matching prefix, else world (2) — what the datapath's LPM ipcache
 * answers for world addresses. The list's index is built once per list
 * (callers pass the same array until the identities change), so a lookup
 * costs one probe per prefix length in use, not a scan.
 */
export function worldIdentityOf(ip: string, cidrIdentities: readonly Identity[]): number {
  const host = hostPrefix(ip);
  if (!host) return ReservedIdentity.world;
  const byLength = worldIndexOf(cidrIdentities).get(host.family);
  if (!byLength) return ReservedIdentity.world;
  const bits = BigInt(host.length);
  for (const [length, byAddress] of byLength) {
    const hostBits = bits - BigInt(length);
    const id = byAddress.get((host.address >> hostBits) << hostBits);
    if (id !== undefined) return id;
  }
  return ReservedIdentity.world;
}
