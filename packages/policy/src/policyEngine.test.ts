import { describe, expect, it } from 'vitest';
import { CidrIdentityAllocator, type Identity } from './identities.ts';
import { parsePolicies } from './policyDocuments.ts';
import { PolicyEngine, type PolicyEngineInputs } from './policyEngine.ts';
import { type PolicyEndpoint, resolveEndpointPolicies } from './resolvePolicy.ts';

const RULES = 10_000;
const NAMESPACE = 'k8s:io.kubernetes.pod.namespace=default';

/** Rule i allows egress to 10.x.y.z/32 (one per rule) on TCP port 1000 + i % 5000. */
function cidrRule(i: number, octet = 10) {
  return { toCIDR: [`${octet}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`], toPorts: [{ ports: [{ port: String(1000 + (i % 5000)), protocol: 'TCP' }] }] };
}

function bigPolicy(egress: unknown[]) {
  return parsePolicies([{ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'big', namespace: 'default' }, spec: { endpointSelector: {}, egress } }]);
}

const identities: Identity[] = Array.from({ length: 4 }, (_, i) => ({ id: 300 + i, labels: [NAMESPACE, `k8s:app=app-${i}`] }));
const endpoints: PolicyEndpoint[] = identities.slice(0, 2).map((identity, i) => ({ id: i + 1, identity: identity.id, labels: identity.labels }));

function inputsOf(egress: unknown[], cidrs: CidrIdentityAllocator): PolicyEngineInputs {
  return {
    policies: bigPolicy(egress),
    identities,
    endpoints,
    nowMs: 0,
    cidrIdentities: (prefixes) => {
      cidrs.sync(prefixes);
      return cidrs.identities();
    },
  };
}

describe('PolicyEngine', () => {
  it('when one rule of a 10,000-rule policy changes, resolves only that rule again and recomputes keys only for the identities it touches', () => {
    const egress = Array.from({ length: RULES }, (_, i) => cidrRule(i));
    const cidrs = new CidrIdentityAllocator();
    const engine = new PolicyEngine();
    engine.updateNow(inputsOf(egress, cidrs));
    const first = engine.stats;
    expect(first.ruleEvaluations).toBe(RULES * endpoints.length);
    expect(engine.directionState(1, 'egress')?.keys).toHaveLength(RULES);

    egress[5000] = cidrRule(5000, 11);
    const changes = engine.updateNow(inputsOf(egress, cidrs));
    const work = engine.stats;
    // The new rule for each endpoint; nothing else is evaluated again.
    expect(work.ruleEvaluations - first.ruleEvaluations).toBe(endpoints.length);
    // The old and the new CIDR identity, for each endpoint.
    expect(work.keyComputations - first.keyComputations).toBe(2 * endpoints.length);
    expect(work.selectorChecks - first.selectorChecks).toBeLessThan(20);
    expect(changes.changed).toEqual([
      { endpointId: 1, direction: 'egress' },
      { endpointId: 2, direction: 'egress' },
    ]);

    // And the result is what resolving everything from scratch gives.
    const fresh = resolveEndpointPolicies(endpoints, { policies: bigPolicy(egress), identities: [...identities, ...cidrs.identities()], nowMs: 0 });
    expect(endpoints.map((endpoint) => engine.policyOf(endpoint.id))).toEqual(fresh);
  });

  it('does no resolution work when nothing changed', () => {
    const egress = Array.from({ length: 1000 }, (_, i) => cidrRule(i));
    const cidrs = new CidrIdentityAllocator();
    const engine = new PolicyEngine();
    const inputs = inputsOf(egress, cidrs);
    engine.updateNow(inputs);
    const before = engine.stats;
    expect(engine.updateNow({ ...inputs, policies: bigPolicy(egress) })).toEqual({ changed: [], removed: [] });
    expect(engine.stats).toEqual(before);
  });

  it('agrees with resolving from scratch after identities, endpoints and policies come and go', () => {
    const policies = parsePolicies([
      {
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumNetworkPolicy',
        metadata: { name: 'mixed', namespace: 'default' },
        spec: {
          endpointSelector: { matchLabels: { app: 'app-0' } },
          egress: [
            { toEndpoints: [{ matchLabels: { app: 'app-1' } }], toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] },
            { toEntities: ['world'] },
            { toCIDRSet: [{ cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] }] },
          ],
          egressDeny: [{ toPorts: [{ ports: [{ port: '22', protocol: 'ANY' }] }] }],
          ingress: [{ fromEndpoints: [{}] }],
        },
      },
    ]);
    const engine = new PolicyEngine();
    const cidrs = new CidrIdentityAllocator();
    const cidrIdentities = (prefixes: readonly string[]) => {
      cidrs.sync(prefixes);
      return cidrs.identities();
    };
    const steps: { identities: Identity[]; endpoints: PolicyEndpoint[]; policies: typeof policies }[] = [
      { identities, endpoints, policies },
      { identities: identities.slice(0, 3), endpoints, policies },
      { identities: [...identities, { id: 400, labels: [NAMESPACE, 'k8s:app=app-1', 'k8s:tier=web'] }], endpoints: [{ id: 1, identity: 301, labels: identities[1]!.labels }], policies },
      { identities, endpoints, policies: [] },
      { identities, endpoints, policies },
    ];
    for (const step of steps) {
      engine.updateNow({ ...step, nowMs: 0, cidrIdentities });
      const fresh = resolveEndpointPolicies(step.endpoints, { policies: step.policies, identities: [...step.identities, ...cidrs.identities()], nowMs: 0 });
      expect(step.endpoints.map((endpoint) => engine.policyOf(endpoint.id))).toEqual(fresh);
    }
  });
});
