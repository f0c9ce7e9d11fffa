import { describe, expect, it } from 'vitest';
import type { Flow } from '@tycho/flow';
import { CidrIdentityAllocator, type EndpointPolicy, type Identity, parsePolicyText, resolveEndpointPolicies } from '@tycho/policy';
import { flowPolicyOf, namePoliciesOnFlow, type FlowPolicyContext } from './flowPolicies.ts';

const POLICIES = parsePolicyText(`apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: pod-to-a-allowed-cnp }
spec:
  endpointSelector: { matchLabels: { name: client } }
  egress:
    - toEndpoints: [{ matchLabels: { name: echo-a } }]
      toPorts: [{ ports: [{ port: "8080", protocol: TCP }] }]
    - toCIDR: [198.51.100.0/24]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: no-telnet }
spec:
  endpointSelector: {}
  enableDefaultDeny: { egress: false }
  egressDeny:
    - toPorts: [{ ports: [{ port: "23", protocol: TCP }] }]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: echo-from-cluster }
spec:
  endpointSelector: { matchLabels: { name: echo-a } }
  ingress:
    - fromEntities: [cluster]
`);

const CLIENT: Identity = { id: 302, labels: ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=client'] };
const ECHO_A: Identity = { id: 300, labels: ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=echo-a'] };
const cidrs = new CidrIdentityAllocator();
cidrs.sync(['198.51.100.0/24']);
const resolved = resolveEndpointPolicies(
  [
    { id: 7, identity: CLIENT.id, labels: CLIENT.labels },
    { id: 8, identity: ECHO_A.id, labels: ECHO_A.labels },
  ],
  { policies: POLICIES, identities: [CLIENT, ECHO_A, ...cidrs.identities()], nowMs: 0 },
);
const context: FlowPolicyContext = {
  policyOf: (id) => resolved.find((policy: EndpointPolicy) => policy.endpointId === id),
  cidrIdentities: () => cidrs.identities(),
  revision: 3,
};

function flow(overrides: Partial<Flow>, dport = 8080): Flow {
  return {
    time: '2024-01-01T00:00:00Z',
    uuid: 'u',
    verdict: 'FORWARDED',
    IP: { source: '10.244.0.7', destination: '10.244.0.8', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000, destination_port: dport, flags: { SYN: true } } },
    source: { ID: 7, identity: CLIENT.id },
    destination: { ID: 8, identity: ECHO_A.id },
    Type: 'L3_L4',
    node_name: 'node-1',
    event_type: { type: 4 },
    is_reply: false,
    trace_observation_point: 'FROM_ENDPOINT',
    ...overrides,
  };
}

const allowedCnp = flowPolicyOf({ kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'pod-to-a-allowed-cnp' }, 3);

describe('namePoliciesOnFlow', () => {
  it("names the policies that allowed a flow out of its source endpoint, as Hubble's Policy", () => {
    const named = namePoliciesOnFlow(flow({}), context);
    expect(named.egress_allowed_by).toEqual([
      {
        name: 'pod-to-a-allowed-cnp',
        namespace: 'default',
        labels: [
          'k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy',
          'k8s:io.cilium.k8s.policy.name=pod-to-a-allowed-cnp',
          'k8s:io.cilium.k8s.policy.namespace=default',
        ],
        revision: 3,
        kind: 'CiliumNetworkPolicy',
      },
    ]);
    expect(named.egress_denied_by).toBeUndefined();
    expect(named.ingress_allowed_by).toBeUndefined();
  });

  it('names the policies whose default deny dropped a flow (POLICY_DENIED)', () => {
    const named = namePoliciesOnFlow(flow({ verdict: 'DROPPED', drop_reason: 133, drop_reason_desc: 'POLICY_DENIED', trace_observation_point: undefined }, 9090), context);
    expect(named.egress_denied_by).toEqual([allowedCnp]);
    expect(named.egress_allowed_by).toBeUndefined();
    // echo-a's ingress allows the cluster on every port: that side is named as allowing.
    expect(named.ingress_allowed_by?.map((policy) => [policy.kind, policy.name, policy.namespace])).toEqual([['CiliumClusterwideNetworkPolicy', 'echo-from-cluster', undefined]]);
  });

  it("names only the side that dropped a flow when the drop's traffic direction is known", () => {
    const drop = { verdict: 'DROPPED', drop_reason: 133, drop_reason_desc: 'POLICY_DENIED', trace_observation_point: undefined, traffic_direction: 'EGRESS' } as const;
    const named = namePoliciesOnFlow(flow(drop, 9090), context);
    expect(named.egress_denied_by).toEqual([allowedCnp]);
    expect(named.ingress_allowed_by).toBeUndefined();
  });

  it('names the deny rule that dropped a flow (POLICY_DENY), over the allow', () => {
    const named = namePoliciesOnFlow(flow({ verdict: 'DROPPED', drop_reason: 181, drop_reason_desc: 'POLICY_DENY' }, 23), context);
    expect(named.egress_denied_by?.map((policy) => policy.name)).toEqual(['no-telnet']);
  });

  it('decides ingress at the destination endpoint for a flow seen at TO_ENDPOINT', () => {
    const named = namePoliciesOnFlow(flow({ trace_observation_point: 'TO_ENDPOINT', source: { identity: CLIENT.id } }), context);
    expect(named.ingress_allowed_by?.map((policy) => policy.name)).toEqual(['echo-from-cluster']);
    expect(named.egress_allowed_by).toBeUndefined();
  });

  it('names only the judged side of a policy verdict (no observation point, direction from its sub-type)', () => {
    const verdict = { event_type: { type: 5, sub_type: 2 }, trace_observation_point: undefined, traffic_direction: 'EGRESS', policy_match_type: 2 } as const;
    const named = namePoliciesOnFlow(flow(verdict), context);
    expect(named.egress_allowed_by).toEqual([allowedCnp]);
    expect(named.ingress_allowed_by).toBeUndefined();
  });

  it('uses the CIDR identity of a world address', () => {
    const toWorld = flow({ IP: { source: '10.244.0.7', destination: '198.51.100.14', ipVersion: 'IPv4' }, destination: { identity: 2 } }, 443);
    expect(namePoliciesOnFlow(toWorld, context).egress_allowed_by?.map((policy) => policy.name)).toEqual(['pod-to-a-allowed-cnp']);
    const elsewhere = flow({ IP: { source: '10.244.0.7', destination: '192.0.2.11', ipVersion: 'IPv4' }, destination: { identity: 2 } }, 443);
    expect(namePoliciesOnFlow(elsewhere, context).egress_denied_by?.map((policy) => policy.name)).toEqual(['pod-to-a-allowed-cnp']);
  });

  it('leaves replies, drops for other reasons and unenforced directions unnamed', () => {
    for (const unnamed of [
      flow({ is_reply: true }),
      flow({ verdict: 'DROPPED', drop_reason: 158, drop_reason_desc: 'SERVICE_BACKEND_NOT_FOUND' }, 9090),
      flow({ source: { ID: 8, identity: ECHO_A.id }, destination: { identity: CLIENT.id } }),
    ]) {
      const named = namePoliciesOnFlow(unnamed, context);
      expect([named.egress_allowed_by, named.egress_denied_by, named.ingress_allowed_by, named.ingress_denied_by]).toEqual([undefined, undefined, undefined, undefined]);
    }
  });
});
