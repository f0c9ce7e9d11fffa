import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Decision, decide, decideDnsQuery, entryMatches } from './decide.ts';
import { fqdnSelectorMatches } from './fqdnSelector.ts';
import type { Direction, PolicyRef } from './policyModel.ts';
import { type DirectionPolicy, type EndpointPolicy, type PolicyEntry, Protocol } from './resolvePolicy.ts';

const ref = (name: string): PolicyRef => ({ kind: 'CiliumNetworkPolicy', namespace: 'default', name });

function endpointWith(egress: DirectionPolicy, ingress: DirectionPolicy = { enforced: false, enforcedBy: [], entries: [] }): EndpointPolicy {
  return { endpointId: 1, identity: 300, selectedBy: [], ingress, egress };
}

/** Entries whose field reads are counted: what a decision looks at. */
function countingEntries(entries: readonly PolicyEntry[]): { entries: PolicyEntry[]; reads: () => number; reset: () => void } {
  let reads = 0;
  const counted = entries.map(
    (entry) =>
      new Proxy(entry, {
        get(target, key, receiver) {
          reads++;
          return Reflect.get(target, key, receiver) as unknown;
        },
      }),
  );
  return { entries: counted, reads: () => reads, reset: () => (reads = 0) };
}

/** Every policy of the entries, each once, in entry order. */
function refsOf(entries: readonly PolicyEntry[]): PolicyRef[] {
  return [...new Map(entries.flatMap((entry) => entry.policies.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r] as const))).values()];
}

/** The decision as a pass over every entry: the definition the indexed `decide` must agree with. */
function linearDecide(endpoint: EndpointPolicy, direction: Direction, remoteIdentity: number, port: number, protocol: number): Decision {
  const policy = endpoint[direction];
  const matching = policy.entries.filter((entry) => entryMatches(entry, remoteIdentity, port, protocol));
  const denies = matching.filter((entry) => entry.deny);
  if (denies.length > 0) return { verdict: 'denied-by-deny-rule', policies: refsOf(denies) };
  if (!policy.enforced) return { verdict: 'not-enforced', policies: [] };
  if (matching.length > 0) return { verdict: 'allowed', policies: refsOf(matching) };
  return { verdict: 'denied', policies: policy.enforcedBy };
}

function linearDecideDnsQuery(endpoint: EndpointPolicy, remoteIdentity: number, port: number, protocol: number, name: string): Decision {
  const decision = linearDecide(endpoint, 'egress', remoteIdentity, port, protocol);
  if (decision.verdict !== 'allowed') return decision;
  const allowing = endpoint.egress.entries.filter((entry) => !entry.deny && entryMatches(entry, remoteIdentity, port, protocol));
  const matching = allowing.filter((entry) => entry.dns === undefined || entry.dns.some((selector) => fqdnSelectorMatches(selector, name)));
  if (matching.length > 0) return { verdict: 'allowed', policies: refsOf(matching) };
  return { verdict: 'denied', policies: refsOf(allowing) };
}

describe('decide', () => {
  it('looks at a few entries of a 10,000-entry policy per decision, not at all of them', () => {
    // One allow per remote identity and port, as a 10,000-rule policy of toEndpoints + toPorts resolves to.
    const entries: PolicyEntry[] = [];
    for (let i = 0; i < 10_000; i++) {
      entries.push({ identity: 1000 + i, protocol: Protocol.TCP, port: 8000 + (i % 100), endPort: 8000 + (i % 100), deny: false, policies: [ref(`rule-${i}`)] });
    }
    entries.push({ identity: 0, protocol: Protocol.UDP, port: 53, endPort: 53, deny: false, policies: [ref('dns')] });
    entries.push({ identity: 0, protocol: Protocol.TCP, port: 9000, endPort: 9999, deny: true, policies: [ref('no-9k')] });
    const counting = countingEntries(entries);
    const endpoint = endpointWith({ enforced: true, enforcedBy: [ref('rule-0')], entries: counting.entries });
    expect(decide(endpoint, 'egress', 1000 + 4242, 8042, Protocol.TCP)).toEqual({ verdict: 'allowed', policies: [ref('rule-4242')] });

    for (const [identity, port, protocol, verdict] of [
      [1000 + 7777, 8077, Protocol.TCP, 'allowed'],
      [1000 + 7777, 8078, Protocol.TCP, 'denied'],
      [1000 + 7777, 9500, Protocol.TCP, 'denied-by-deny-rule'],
      [5, 53, Protocol.UDP, 'allowed'],
      [2, 443, Protocol.TCP, 'denied'],
    ] as const) {
      counting.reset();
      expect(decide(endpoint, 'egress', identity, port, protocol).verdict).toBe(verdict);
      expect(counting.reads()).toBeLessThanOrEqual(24);
    }
  });

  it('builds the index of a list once, then decides new flows on it', () => {
    const counting = countingEntries([{ identity: 0, protocol: Protocol.TCP, port: 80, endPort: 80, deny: false, policies: [ref('web')] }]);
    const endpoint = endpointWith({ enforced: true, enforcedBy: [ref('web')], entries: counting.entries });
    decide(endpoint, 'egress', 300, 80, Protocol.TCP);
    counting.reset();
    expect(decide(endpoint, 'egress', 301, 81, Protocol.TCP).verdict).toBe('denied');
    expect(counting.reads()).toBe(0);
  });

  it('matches a port range by the aligned blocks it covers, at both ends', () => {
    const endpoint = endpointWith({ enforced: true, enforcedBy: [ref('range')], entries: [{ identity: 0, protocol: Protocol.TCP, port: 1023, endPort: 2049, deny: false, policies: [ref('range')] }] });
    expect([1022, 1023, 1024, 2047, 2048, 2049, 2050].map((port) => decide(endpoint, 'egress', 300, port, Protocol.TCP).verdict)).toEqual([
      'denied',
      'allowed',
      'allowed',
      'allowed',
      'allowed',
      'allowed',
      'denied',
    ]);
  });

  it('gives the answers of a pass over every entry, on random policies and flows', () => {
    const identities = [0, 1, 2, 256, 257];
    const protocols = [Protocol.ANY, Protocol.ICMP, Protocol.TCP, Protocol.UDP];
    const ports = [0, 1, 53, 80, 1023, 1024, 8080, 65535];
    const names = ['a', 'b', 'c', 'd'];
    const entry = fc.record({
      identity: fc.constantFrom(...identities),
      protocol: fc.constantFrom(...protocols),
      port: fc.constantFrom(...ports),
      span: fc.constantFrom(0, 0, 1, 7, 1000, -1, 70_000),
      deny: fc.boolean(),
      policies: fc.uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: 2 }),
      dns: fc.option(fc.array(fc.constantFrom({ matchPattern: '*.google.com' }, { matchName: 'one.one.one.one' }), { maxLength: 2 }), { nil: undefined }),
    });
    const direction = fc.record({
      enforced: fc.boolean(),
      entries: fc.array(entry, { maxLength: 12 }),
    });
    const flow = fc.record({
      identity: fc.constantFrom(...identities, 300),
      port: fc.oneof(fc.constantFrom(...ports), fc.integer({ min: 0, max: 65535 })),
      protocol: fc.constantFrom(...protocols, Protocol.SCTP),
      name: fc.constantFrom('www.google.com', 'one.one.one.one', 'example.org'),
    });
    fc.assert(
      fc.property(direction, direction, fc.array(flow, { minLength: 1, maxLength: 8 }), (egress, ingress, flows) => {
        const policyOf = (d: typeof egress): DirectionPolicy => ({
          enforced: d.enforced,
          enforcedBy: d.enforced ? [ref('selecting')] : [],
          entries: d.entries.map((e) => ({ identity: e.identity, protocol: e.protocol, port: e.port, endPort: e.port + e.span, deny: e.deny, policies: e.policies.map(ref), dns: e.dns })),
        });
        const endpoint = endpointWith(policyOf(egress), policyOf(ingress));
        for (const f of flows) {
          for (const side of ['egress', 'ingress'] as const) {
            expect(decide(endpoint, side, f.identity, f.port, f.protocol)).toEqual(linearDecide(endpoint, side, f.identity, f.port, f.protocol));
          }
          expect(decideDnsQuery(endpoint, f.identity, f.port, f.protocol, f.name)).toEqual(linearDecideDnsQuery(endpoint, f.identity, f.port, f.protocol, f.name));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
