import { describe, expect, it } from 'vitest';
import { decide } from './decide.ts';
import type { Direction } from './policyModel.ts';
import { lookupPolicyMapKey, policyMapKeys, portRangePrefixes } from './policyMapKeys.ts';
import type { EndpointPolicy, PolicyEntry } from './resolvePolicy.ts';

const ref = (name: string) => ({ kind: 'CiliumNetworkPolicy' as const, namespace: 'default', name });

function endpoint(entries: PolicyEntry[], enforced = true): EndpointPolicy {
  const direction = { enforced, enforcedBy: enforced ? [ref('p')] : [], entries };
  return { endpointId: 1, identity: 300, selectedBy: [ref('p')], ingress: { enforced: false, enforcedBy: [], entries: [] }, egress: direction };
}
const allow = (identity: number, protocol: number, port: number, endPort = port, name = 'allow'): PolicyEntry => ({
  identity,
  protocol,
  port,
  endPort,
  deny: false,
  policies: [ref(name)],
});
const deny = (identity: number, protocol: number, port: number, endPort = port): PolicyEntry => ({ ...allow(identity, protocol, port, endPort, 'deny'), deny: true });

/** Checks that the LPM keys give decide()'s verdict and policies for every probe. */
function expectKeysAgreeWithDecide(policy: EndpointPolicy, direction: Direction = 'egress'): void {
  const keys = policyMapKeys(policy);
  for (const identity of [2, 300, 301, 302]) {
    for (const protocol of [1, 6, 17, 132]) {
      for (const port of [0, 52, 53, 54, 79, 80, 81, 1023, 1024, 8080, 8100, 65535]) {
        const decision = decide(policy, direction, identity, port, protocol);
        const key = lookupPolicyMapKey(keys, direction, identity, port, protocol);
        const where = `identity ${identity} proto ${protocol} port ${port}`;
        if (decision.verdict === 'allowed' || decision.verdict === 'not-enforced') {
          expect(key?.deny, where).toBe(false);
          expect(key?.policies.map((p) => p.name).sort(), where).toEqual(decision.policies.map((p) => p.name).sort());
        } else if (decision.verdict === 'denied-by-deny-rule') {
          expect(key?.deny, where).toBe(true);
          expect(key?.policies.map((p) => p.name).sort(), where).toEqual(decision.policies.map((p) => p.name).sort());
        } else {
          expect(key, where).toBeUndefined();
        }
      }
    }
  }
}

describe('portRangePrefixes', () => {
  it('splits a range into the fewest aligned blocks', () => {
    expect(portRangePrefixes(80, 80)).toEqual([{ port: 80, prefixLen: 16 }]);
    // 8000-8063, 8064-8095, 8096-8099, 8100
    expect(portRangePrefixes(8000, 8100)).toEqual([
      { port: 8000, prefixLen: 10 },
      { port: 8064, prefixLen: 11 },
      { port: 8096, prefixLen: 14 },
      { port: 8100, prefixLen: 16 },
    ]);
    expect(portRangePrefixes(0, 65535)).toEqual([{ port: 0, prefixLen: 0 }]);
  });

  it('refuses an inverted range', () => {
    expect(() => portRangePrefixes(10, 9)).toThrow(RangeError);
  });
});

describe('policyMapKeys', () => {
  it('expands protocol ANY with a port into TCP, UDP and SCTP keys', () => {
    const keys = policyMapKeys(endpoint([allow(302, 0, 53)]));
    expect(keys.map((k) => [k.identity, k.protocol, k.port, k.prefixLen])).toEqual([
      [302, 6, 53, 24],
      [302, 17, 53, 24],
      [302, 132, 53, 24],
    ]);
  });

  it('agrees with decide for specific, wildcard and range entries', () => {
    expectKeysAgreeWithDecide(endpoint([allow(301, 6, 8080), allow(0, 17, 53, 53, 'dns'), allow(302, 0, 0), allow(0, 6, 8000, 8100, 'range')]));
  });

  it('agrees with decide when deny entries overlap allows (deny wins)', () => {
    expectKeysAgreeWithDecide(endpoint([allow(0, 0, 0, 0, 'all'), deny(301, 6, 80), deny(0, 17, 53), allow(301, 6, 8080), deny(302, 0, 0)]));
  });

  it('adds an allow-all key where only deny rules are in force', () => {
    const policy = endpoint([deny(2, 0, 0)], false);
    expectKeysAgreeWithDecide(policy);
    expect(lookupPolicyMapKey(policyMapKeys(policy), 'egress', 301, 80, 6)).toMatchObject({ deny: false, identity: 0 });
  });

  it('has no keys for a direction without entries', () => {
    expect(policyMapKeys(endpoint([]))).toEqual([]);
  });
});
