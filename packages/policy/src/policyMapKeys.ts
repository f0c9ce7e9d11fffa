import type { Direction, PolicyRef } from './policyModel.ts';
import type { DirectionPolicy, EndpointPolicy, PolicyEntry } from './resolvePolicy.ts';

/**
 * The compiled form for the datapath: longest-prefix-match keys as
 * Cilium's policy map uses them since 1.16. A key is (identity, direction,
 * protocol, destination port) where the prefix length counts bits over
 * protocol (8) then port (16):
 *   prefixLen 0  – any protocol, any port
 *   prefixLen 8  – one protocol, any port
 *   prefixLen 24 – one protocol, one port; 9-23 cover aligned port ranges.
 * The identity is not part of the prefix: the datapath looks up the remote
 * identity first and identity 0 only when that finds nothing. For that to
 * be exact, every key of identity 0 is repeated under each specific
 * identity, and each key's value is what `decide` says for all traffic in
 * that block (deny wins; the policies of every entry covering the block).
 * A rule for protocol ANY with a port becomes keys for TCP, UDP and SCTP.
 */
export interface PolicyMapKey {
  readonly direction: Direction;
  readonly identity: number;
  readonly protocol: number;
  readonly port: number;
  readonly prefixLen: number;
  readonly deny: boolean;
  readonly policies: readonly PolicyRef[];
}

export interface PortPrefix {
  readonly port: number;
  /** Bits of the 16-bit port that are fixed (16 = one port). */
  readonly prefixLen: number;
}

/** Splits start..end into the fewest aligned power-of-two blocks. */
export function portRangePrefixes(start: number, end: number): PortPrefix[] {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > 65535 || start > end) {
    throw new RangeError(`portRangePrefixes: invalid range ${start}-${end}`);
  }
  const out: PortPrefix[] = [];
  let port = start;
  while (port <= end) {
    let size = 1;
    // Grow the block while it stays aligned and inside the range.
    while (size < 65536 && port % (size * 2) === 0 && port + size * 2 - 1 <= end) size *= 2;
    out.push({ port, prefixLen: 16 - Math.log2(size) });
    port += size;
  }
  return out;
}

/** Protocols a port-specific ANY rule expands to. */
const PORT_PROTOCOLS = [6, 17, 132] as const;

interface Block {
  readonly protocol: number;
  readonly port: number;
  readonly prefixLen: number;
}

function blocksOf(entry: PolicyEntry): Block[] {
  if (entry.protocol === 0 && entry.port === 0) return [{ protocol: 0, port: 0, prefixLen: 0 }];
  const protocols = entry.protocol === 0 ? PORT_PROTOCOLS : [entry.protocol];
  return protocols.flatMap((protocol) =>
    entry.port === 0
      ? [{ protocol, port: 0, prefixLen: 8 }]
      : portRangePrefixes(entry.port, entry.endPort).map((p) => ({ protocol, port: p.port, prefixLen: 8 + p.prefixLen })),
  );
}

function covers(entry: PolicyEntry, block: Block): boolean {
  if (block.prefixLen === 0) return entry.protocol === 0 && entry.port === 0;
  if (entry.protocol !== 0 && entry.protocol !== block.protocol) return false;
  if (entry.port === 0) return true;
  if (block.prefixLen === 8) return false;
  const last = block.port + 2 ** (24 - block.prefixLen) - 1;
  return entry.port <= block.port && last <= entry.endPort;
}

/**
 * The keys of one remote identity: its own entries' blocks, and for a
 * specific identity the blocks of identity 0's entries too, each valued by
 * every entry (own or identity 0's) covering it. `own` and `wildcard` are in
 * `resolveEndpointPolicies`' entry order.
 */
export function keysOfIdentity(direction: Direction, identity: number, own: readonly PolicyEntry[], wildcard: readonly PolicyEntry[]): PolicyMapKey[] {
  const candidates = identity === 0 ? own.flatMap(blocksOf) : [...own.flatMap(blocksOf), ...wildcard.flatMap(blocksOf)];
  const applicable = identity === 0 ? own : [...own, ...wildcard].sort(entryOrder);
  const keys = new Map<string, PolicyMapKey>();
  for (const block of candidates) {
    const id = `${block.protocol}/${block.port}/${block.prefixLen}`;
    if (keys.has(id)) continue;
    const covering = applicable.filter((e) => covers(e, block));
    const denies = covering.filter((e) => e.deny);
    const chosen = denies.length > 0 ? denies : covering;
    const policies = new Map<string, PolicyRef>();
    for (const e of chosen) for (const ref of e.policies) policies.set(`${ref.kind}/${ref.namespace}/${ref.name}`, ref);
    keys.set(id, { direction, identity, ...block, deny: denies.length > 0, policies: [...policies.values()] });
  }
  return [...keys.values()];
}

/** Deny first, then by identity, protocol and port range. */
function entryOrder(a: PolicyEntry, b: PolicyEntry): number {
  return Number(b.deny) - Number(a.deny) || a.identity - b.identity || a.protocol - b.protocol || a.port - b.port || a.endPort - b.endPort;
}

function keysOfDirection(direction: Direction, policy: DirectionPolicy): PolicyMapKey[] {
  let entries = policy.entries;
  if (entries.length === 0) return [];
  // Deny rules where default deny is off: everything else stays allowed.
  if (!policy.enforced) entries = [...entries, { identity: 0, protocol: 0, port: 0, endPort: 0, deny: false, policies: [] }];
  const byIdentity = new Map<number, PolicyEntry[]>();
  for (const entry of entries) {
    const group = byIdentity.get(entry.identity);
    if (group) group.push(entry);
    else byIdentity.set(entry.identity, [entry]);
  }
  const wildcard = byIdentity.get(0) ?? [];
  return [...byIdentity].flatMap(([identity, own]) => keysOfIdentity(direction, identity, own, wildcard));
}

/** Every key for one endpoint's policy map, ingress then egress. */
export function policyMapKeys(endpoint: EndpointPolicy): PolicyMapKey[] {
  return [...keysOfDirection('ingress', endpoint.ingress), ...keysOfDirection('egress', endpoint.egress)];
}

/** Whether the datapath must consult the map in this direction (enforced, or deny rules present). */
export function directionNeedsLookup(policy: DirectionPolicy): boolean {
  return policy.enforced || policy.entries.length > 0;
}

/**
 * The datapath's lookup done in TypeScript over the keys: longest prefix for
 * the remote identity, then for identity 0. Returns the key found, or
 * undefined (default deny when the direction is enforced). Tests use it to
 * prove the keys agree with `decide`; the eBPF side does the same lookup.
 */
export function lookupPolicyMapKey(
  keys: readonly PolicyMapKey[],
  direction: Direction,
  remoteIdentity: number,
  port: number,
  protocol: number,
): PolicyMapKey | undefined {
  const find = (identity: number): PolicyMapKey | undefined => {
    let best: PolicyMapKey | undefined;
    for (const key of keys) {
      if (key.direction !== direction || key.identity !== identity) continue;
      if (!matchesKey(key, protocol, port)) continue;
      if (!best || key.prefixLen > best.prefixLen) best = key;
    }
    return best;
  };
  return find(remoteIdentity) ?? (remoteIdentity === 0 ? undefined : find(0));
}

function matchesKey(key: PolicyMapKey, protocol: number, port: number): boolean {
  if (key.prefixLen === 0) return true;
  if (key.protocol !== protocol) return false;
  if (key.prefixLen === 8) return true;
  const size = 2 ** (24 - key.prefixLen);
  return port >= key.port && port < key.port + size;
}
