import { fqdnSelectorMatches } from './fqdnSelector.ts';
import type { Direction, PolicyRef } from './policyModel.ts';
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

/**
 * The verdict for traffic of `endpoint` in `direction` with the remote
 * identity, destination port (0 for ICMP) and IP protocol number. Deny
 * entries win over allow entries, and apply even where default deny is off.
 */
export function decide(endpoint: EndpointPolicy, direction: Direction, remoteIdentity: number, port: number, protocol: number): Decision {
  const policy = endpoint[direction];
  const matching = policy.entries.filter((entry) => entryMatches(entry, remoteIdentity, port, protocol));
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
  const allowing = endpoint.egress.entries.filter((entry) => !entry.deny && entryMatches(entry, remoteIdentity, port, protocol));
  const matching = allowing.filter((entry) => entry.dns === undefined || entry.dns.some((selector) => fqdnSelectorMatches(selector, name)));
  if (matching.length > 0) return { verdict: 'allowed', policies: refsOf(matching) };
  return { verdict: 'denied', policies: refsOf(allowing) };
}
