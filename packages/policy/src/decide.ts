import { fqdnSelectorMatches } from './fqdnSelector.ts';
import type { Direction, PolicyRef } from './policyModel.ts';
import { portRangePrefixes } from './policyMapKeys.ts';
import type { EndpointPolicy, PolicyEntry } from './resolvePolicy.ts';

export type Verdict = 'allowed' | 'denied' | 'denied-by-deny-rule' | 'not-enforced';

export interface Decision {
  readonly verdict: Verdict;
  /**
   * allowed: every policy with an allow entry matching the traffic (egress_allowed_by / ingress_allowed_by);
   * denied-by-deny-rule: every policy with a matching deny entry (drop reason POLICY_DENY, *_denied_by);
   * denied: the policies whose selection turned on default deny (drop reason POLICY_DENIED);
   * not-enforced: none.
   */
  readonly policies: readonly PolicyRef[];
}

export function entryMatches(entry: PolicyEntry, remoteIdentity: number, port: number, protocol: number): boolean {
  return (
    (entry.identity === 0 || entry.identity === remoteIdentity) &&
    (entry.protocol === 0 || entry.protocol === protocol) &&
    (entry.port === 0 || (port >= entry.port && port <= entry.endPort))
  );
}

function refsOf(entries: readonly PolicyEntry[]): PolicyRef[] {
  const byKey = new Map<string, PolicyRef>();
  for (const entry of entries) for (const ref of entry.policies) byKey.set(`${ref.kind}/${ref.namespace}/${ref.name}`, ref);
  return [...byKey.values()];
}

const MAX_PORT = 65535;
const PORT_BITS = 16;

/** Entries of one (remote identity, protocol): those for any port, and the others under the aligned port blocks that cover their range. */
interface PortIndex {
  readonly anyPort: number[];
  /** `prefixLen * 65536 + first port of the block` → positions in the entry list. */
  readonly byBlock: Map<number, number[]>;
  /** The prefix lengths in byBlock (a lookup probes only these). */
  readonly prefixLengths: number[];
}

/** An entry list indexed by remote identity, then protocol (0 = any, as in the entries), then port. */
type EntryIndex = Map<number, Map<number, PortIndex>>;

/**
 * Per entry list: its index, built at the first decision (the agent decides
 * every flow of an endpoint with the same resolved policy until it changes,
 * and resolved policies are never modified in place).
 */
const entryIndexes = new WeakMap<readonly PolicyEntry[], EntryIndex>();

function blockKey(prefixLen: number, port: number): number {
  return prefixLen * (MAX_PORT + 1) + port;
}

function indexOf(entries: readonly PolicyEntry[]): EntryIndex {
  let index = entryIndexes.get(entries);
  if (index) return index;
  index = new Map();
  for (const [position, entry] of entries.entries()) {
    let byProtocol = index.get(entry.identity);
    if (!byProtocol) index.set(entry.identity, (byProtocol = new Map()));
    let ports = byProtocol.get(entry.protocol);
    if (!ports) byProtocol.set(entry.protocol, (ports = { anyPort: [], byBlock: new Map(), prefixLengths: [] }));
    if (entry.port === 0) {
      ports.anyPort.push(position);
      continue;
    }
    // Flow ports stop at 65535; a range that starts past it, or ends before it starts, matches no flow.
    const endPort = Math.min(entry.endPort, MAX_PORT);
    if (entry.port > endPort) continue;
    for (const block of portRangePrefixes(entry.port, endPort)) {
      const key = blockKey(block.prefixLen, block.port);
      const positions = ports.byBlock.get(key);
      if (positions) positions.push(position);
      else ports.byBlock.set(key, [position]);
      if (!ports.prefixLengths.includes(block.prefixLen)) ports.prefixLengths.push(block.prefixLen);
    }
  }
  entryIndexes.set(entries, index);
  return index;
}

/**
 * The entries matching (remoteIdentity, port, protocol), in list order: the
 * entries of (identity or any) × (protocol or any), each for any port or
 * under the one block of each prefix length that holds `port` (a port lies
 * in at most one block of a range). A few map lookups, as the datapath's
 * policy map lookup, whatever the size of the list.
 */
function matchingEntries(entries: readonly PolicyEntry[], remoteIdentity: number, port: number, protocol: number): PolicyEntry[] {
  const index = indexOf(entries);
  const positions: number[] = [];
  const identities = remoteIdentity === 0 ? [0] : [remoteIdentity, 0];
  const protocols = protocol === 0 ? [0] : [protocol, 0];
  const portInRange = Number.isInteger(port) && port >= 1 && port <= MAX_PORT;
  for (const identity of identities) {
    const byProtocol = index.get(identity);
    if (!byProtocol) continue;
    for (const entryProtocol of protocols) {
      const ports = byProtocol.get(entryProtocol);
      if (!ports) continue;
      positions.push(...ports.anyPort);
      if (!portInRange) continue;
      for (const prefixLen of ports.prefixLengths) {
        const hostBits = PORT_BITS - prefixLen;
        const found = ports.byBlock.get(blockKey(prefixLen, (port >> hostBits) << hostBits));
        if (found) positions.push(...found);
      }
    }
  }
  return positions.sort((a, b) => a - b).map((position) => entries[position]!);
}

/**
 * The verdict for traffic of `endpoint` in `direction` with the remote
 * identity, destination port (0 for ICMP) and IP protocol number. Deny
 * entries win over allow entries, and apply even where default deny is off.
 * The entries are indexed once per resolved policy, so a decision costs a
 * few lookups, not a pass over every entry.
 */
export function decide(endpoint: EndpointPolicy, direction: Direction, remoteIdentity: number, port: number, protocol: number): Decision {
  const policy = endpoint[direction];
  const matching = matchingEntries(policy.entries, remoteIdentity, port, protocol);
  const denies = matching.filter((entry) => entry.deny);
  if (denies.length > 0) return { verdict: 'denied-by-deny-rule', policies: refsOf(denies) };
  if (!policy.enforced) return { verdict: 'not-enforced', policies: [] };
  if (matching.length > 0) return { verdict: 'allowed', policies: refsOf(matching) };
  return { verdict: 'denied', policies: policy.enforcedBy };
}

/**
 * The verdict for a DNS query for `name` sent by the endpoint to
 * (remoteIdentity, port, protocol): as `decide` for egress, and when that
 * allows it, the query must also match the DNS rules of an allowing entry
 * (an entry without DNS rules allows every name). Cilium's DNS proxy
 * refuses a query that no rule matches; Tycho has no proxy, so the agent
 * uses this to label (and later enforce) DNS flows.
 */
export function decideDnsQuery(endpoint: EndpointPolicy, remoteIdentity: number, port: number, protocol: number, name: string): Decision {
  const decision = decide(endpoint, 'egress', remoteIdentity, port, protocol);
  if (decision.verdict !== 'allowed') return decision;
  const allowing = matchingEntries(endpoint.egress.entries, remoteIdentity, port, protocol).filter((entry) => !entry.deny);
  const matching = allowing.filter((entry) => entry.dns === undefined || entry.dns.some((selector) => fqdnSelectorMatches(selector, name)));
  if (matching.length > 0) return { verdict: 'allowed', policies: refsOf(matching) };
  return { verdict: 'denied', policies: refsOf(allowing) };
}
