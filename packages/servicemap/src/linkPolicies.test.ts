import { describe, expect, it } from 'vitest';
import { LinkPolicies, MAX_POLICIES_PER_LINK, policiesOfFlow } from './linkPolicies.ts';
import { pod, tcpFlow } from './testFlows.ts';

const podToA = pod('default', 'pod-to-a', 300);
const echoA = pod('default', 'echo-a', 301);
const cnp = (name: string) => ({ name, namespace: 'default', kind: 'CiliumNetworkPolicy', revision: 3, labels: [] });

describe('policiesOfFlow', () => {
  it('reads the four *_allowed_by / *_denied_by fields with their effect and direction', () => {
    const flow = {
      ...tcpFlow({ from: podToA, to: echoA }),
      egress_allowed_by: [cnp('egress-ok')],
      ingress_denied_by: [cnp('ingress-no')],
      ingress_allowed_by: [{ name: 'cluster-ok', kind: 'CiliumClusterwideNetworkPolicy' }],
    };
    expect(policiesOfFlow(flow)).toEqual([
      { name: 'ingress-no', namespace: 'default', kind: 'CiliumNetworkPolicy', effect: 'denied', direction: 'ingress' },
      { name: 'egress-ok', namespace: 'default', kind: 'CiliumNetworkPolicy', effect: 'allowed', direction: 'egress' },
      { name: 'cluster-ok', kind: 'CiliumClusterwideNetworkPolicy', effect: 'allowed', direction: 'ingress' },
    ]);
  });

  it('skips entries without a name', () => {
    const flow = { ...tcpFlow({ from: podToA, to: echoA }), egress_denied_by: [{ name: '' }] };
    expect(policiesOfFlow(flow)).toEqual([]);
  });
});

describe('LinkPolicies', () => {
  it('counts the flows that name each policy and lists denying policies first', () => {
    const policies = new LinkPolicies();
    policies.record({ ...tcpFlow({ from: podToA, to: echoA }), egress_allowed_by: [cnp('allow')] });
    policies.record({ ...tcpFlow({ from: podToA, to: echoA, verdict: 'DROPPED' }), egress_denied_by: [cnp('deny')] });
    policies.record({ ...tcpFlow({ from: podToA, to: echoA }), egress_allowed_by: [cnp('allow')] });
    expect(policies.view().map((p) => [p.effect, p.name, p.flows])).toEqual([['denied', 'deny', 1], ['allowed', 'allow', 2]]);
  });

  it(`keeps at most ${MAX_POLICIES_PER_LINK} distinct policies and still counts the known ones`, () => {
    const policies = new LinkPolicies();
    for (let i = 0; i < MAX_POLICIES_PER_LINK + 3; i++) policies.record({ ...tcpFlow({ from: podToA, to: echoA }), egress_allowed_by: [cnp(`p${i}`)] });
    expect(policies.record({ ...tcpFlow({ from: podToA, to: echoA }), egress_allowed_by: [cnp('p0')] })).toBe(true);
    expect(policies.record({ ...tcpFlow({ from: podToA, to: echoA }), egress_allowed_by: [cnp('p99')] })).toBe(false);
    const view = policies.view();
    expect(view).toHaveLength(MAX_POLICIES_PER_LINK);
    expect(view[0]).toMatchObject({ name: 'p0', flows: 2 });
  });
});
