import { describe, expect, it } from 'vitest';
import type { ApiPolicyList } from '../data/apiSchemas.ts';
import { card, link } from '../testing/mapFixtures.ts';
import { cardPolicies, cardPoliciesState, dropReasonsText, linkTitle, policyName } from './policyDisplay.ts';

const echoA = card('default/echo-a', { pods: ['echo-a-1', 'echo-a-2'], workload: { name: 'echo-a', kind: 'Deployment' } });
const list: ApiPolicyList = {
  revision: 4,
  policies: [
    {
      kind: 'NetworkPolicy', namespace: 'default', name: 'echo-ingress',
      selects: [
        { namespace: 'default', pod_name: 'echo-a-1', ingress: true, egress: false },
        { namespace: 'default', pod_name: 'echo-a-2', ingress: false, egress: true },
      ],
    },
    { kind: 'CiliumNetworkPolicy', namespace: 'other', name: 'same-pod-name', selects: [{ namespace: 'other', pod_name: 'echo-a-1', ingress: true, egress: true }] },
    { kind: 'CiliumClusterwideNetworkPolicy', namespace: '', name: 'audit-all', selects: [{ namespace: 'default', pod_name: 'echo-a-2', ingress: false, egress: false }] },
  ],
};

describe('cardPolicies', () => {
  it('finds the policies selecting any of the card’s pods in its namespace, ORing their default-deny directions', () => {
    expect(cardPolicies(list, echoA)).toEqual([
      { kind: 'CiliumClusterwideNetworkPolicy', namespace: '', name: 'audit-all', ingress: false, egress: false, pods: 1 },
      { kind: 'NetworkPolicy', namespace: 'default', name: 'echo-ingress', ingress: true, egress: true, pods: 2 },
    ]);
  });

  it('matches by the workload name when the card has seen no pod yet', () => {
    const noPods = { ...echoA, pods: [] };
    expect(cardPolicies(list, noPods).map((p) => p.name)).toEqual(['audit-all', 'echo-ingress']);
  });

  it('gives cards outside a namespace no policies', () => {
    expect(cardPolicies(list, card('world'))).toEqual([]);
  });
});

describe('cardPoliciesState', () => {
  it('is loading without data or error, an error with its message, and ready with data', () => {
    expect(cardPoliciesState({ data: undefined, error: null }, echoA)).toEqual({ status: 'loading' });
    expect(cardPoliciesState({ data: undefined, error: new Error('503') }, echoA)).toEqual({ status: 'error', message: '503' });
    expect(cardPoliciesState({ data: { revision: 0, policies: [] }, error: null }, echoA)).toEqual({ status: 'ready', policies: [] });
  });
});

describe('policy names and link titles', () => {
  it('names a namespaced policy ns/name and a clusterwide one by name', () => {
    expect([policyName({ name: 'x', namespace: 'default' }), policyName({ name: 'y' })]).toEqual(['default/x', 'y']);
  });

  it('orders drop reasons by count', () => {
    expect(dropReasonsText({ CT_UNKNOWN_L4_PROTOCOL: 1, POLICY_DENIED: 5 })).toBe('POLICY_DENIED 5, CT_UNKNOWN_L4_PROTOCOL 1');
  });

  it('titles a mixed link with verdicts, drop reasons and each policy', () => {
    const cards = new Map([card('default/pod-to-a'), card('default/echo-a')].map((c) => [c.id, c]));
    const mixed = link('default/pod-to-a', 'default/echo-a', 8080, {
      verdicts: { FORWARDED: 3, DROPPED: 1 },
      dropReasons: { POLICY_DENY: 1 },
      policies: [
        { name: 'deny-8080', namespace: 'default', effect: 'denied', direction: 'ingress', flows: 1 },
        { name: 'allow-a', namespace: 'default', effect: 'allowed', direction: 'egress', flows: 3 },
      ],
    });
    expect(linkTitle(mixed, cards).split('\n')).toEqual([
      'pod-to-a → echo-a:8080/TCP',
      'FORWARDED 3, DROPPED 1',
      'dropped: POLICY_DENY 1',
      'ingress denied by default/deny-8080 (1 flows)',
      'egress allowed by default/allow-a (3 flows)',
    ]);
  });
});
