import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decide, decideDnsQuery } from './decide.ts';
import type { DnsRecord } from './dnsCache.ts';
import { CidrIdentityAllocator, type Identity, worldIdentityOf } from './identities.ts';
import { parsePolicies, policyObjectsFromText } from './policyDocuments.ts';
import { type EndpointPolicy, type PolicyEndpoint, Protocol, requiredCidrs, resolveEndpointPolicies } from './resolvePolicy.ts';

/**
 * The seed's three CiliumNetworkPolicies, read from the lab's own manifests,
 * against the labels of the lab's workloads.
 */
const manifestDir = fileURLToPath(new URL('../../lab/manifests/', import.meta.url));
const objects = ['connectivity-check.yaml', 'kube-dns.yaml'].flatMap((file) => policyObjectsFromText(readFileSync(manifestDir + file, 'utf8'), file));

interface ManifestObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { template?: { metadata?: { labels?: Record<string, string> } } };
}
const deployments = (objects as ManifestObject[]).filter((o) => o.kind === 'Deployment');
const policies = parsePolicies(objects.filter((o) => (o as ManifestObject).kind === 'CiliumNetworkPolicy'));

/** One identity per deployment, labelled as the agent labels pods (`securityLabels`). */
const identityOf = new Map<string, Identity>(
  deployments.map((d, i) => {
    const namespace = d.metadata.namespace ?? 'default';
    const labels = Object.entries(d.spec?.template?.metadata?.labels ?? {}).map(([k, v]) => `k8s:${k}=${v}`);
    return [d.metadata.name, { id: 256 + i, labels: [...labels, `k8s:io.kubernetes.pod.namespace=${namespace}`].sort() }];
  }),
);
const id = (deployment: string): number => {
  const identity = identityOf.get(deployment);
  if (!identity) throw new Error(`no deployment ${deployment} in the lab manifests`);
  return identity.id;
};

const GOOGLE = '198.51.100.14';
const ONE_ONE = '192.0.2.11';

function resolveFor(deployment: string, dnsRecords: DnsRecord[] = [], nowMs = 0): { policy: EndpointPolicy; cidrIdentities: Identity[] } {
  const allocator = new CidrIdentityAllocator();
  allocator.sync(requiredCidrs(policies, dnsRecords, nowMs));
  const cidrIdentities = allocator.identities();
  const identity = identityOf.get(deployment)!;
  const endpoint: PolicyEndpoint = { id: 1, identity: identity.id, labels: identity.labels };
  const [policy] = resolveEndpointPolicies([endpoint], { policies, identities: [...identityOf.values(), ...cidrIdentities], dnsRecords, nowMs });
  return { policy: policy!, cidrIdentities };
}

describe('the connectivity-check policies', () => {
  it('are all found and parsed, in the default namespace', () => {
    expect(policies.map((p) => `${p.ref.namespace}/${p.ref.name}`)).toEqual([
      'default/pod-to-a-l3-denied-cnp',
      'default/pod-to-a-allowed-cnp',
      'default/pod-to-external-fqdn-allow-google-cnp',
    ]);
  });

  it('deny pod-to-a-l3-denied-cnp → echo-a:8080 by policy, and allow its DNS to kube-dns:53', () => {
    const { policy } = resolveFor('pod-to-a-l3-denied-cnp');
    const toEcho = decide(policy, 'egress', id('echo-a'), 8080, Protocol.TCP);
    expect(toEcho.verdict).toBe('denied');
    expect(toEcho.policies.map((p) => p.name)).toEqual(['pod-to-a-l3-denied-cnp']);
    for (const protocol of [Protocol.UDP, Protocol.TCP]) {
      expect(decide(policy, 'egress', id('coredns'), 53, protocol)).toMatchObject({ verdict: 'allowed', policies: [{ name: 'pod-to-a-l3-denied-cnp' }] });
    }
  });

  it('allow pod-to-a-allowed-cnp to echo-a on 8080/TCP only', () => {
    const { policy } = resolveFor('pod-to-a-allowed-cnp');
    expect(decide(policy, 'egress', id('echo-a'), 8080, Protocol.TCP)).toMatchObject({ verdict: 'allowed', policies: [{ name: 'pod-to-a-allowed-cnp' }] });
    expect(decide(policy, 'egress', id('echo-a'), 8080, Protocol.UDP).verdict).toBe('denied');
    expect(decide(policy, 'egress', id('echo-a'), 80, Protocol.TCP).verdict).toBe('denied');
    expect(decide(policy, 'egress', id('echo-b'), 8080, Protocol.TCP).verdict).toBe('denied');
    expect(decide(policy, 'egress', id('coredns'), 53, Protocol.UDP).verdict).toBe('allowed');
  });

  it('leave other clients and every ingress unenforced', () => {
    expect(decide(resolveFor('pod-to-a').policy, 'egress', id('echo-a'), 8080, Protocol.TCP).verdict).toBe('not-enforced');
    expect(decide(resolveFor('echo-a').policy, 'ingress', id('pod-to-a-l3-denied-cnp'), 8080, Protocol.TCP).verdict).toBe('not-enforced');
  });

  describe('pod-to-external-fqdn-allow-google-cnp', () => {
    const answers: DnsRecord[] = [
      { name: 'www.google.com.', ip: GOOGLE, expiresAtMs: 30_000 },
      { name: 'one.one.one.one.', ip: ONE_ONE, expiresAtMs: 30_000 },
    ];

    it('allows DNS to kube-dns with the DNS rule that makes queries visible', () => {
      const { policy } = resolveFor('pod-to-external-fqdn-allow-google-cnp');
      const dnsEntries = policy.egress.entries.filter((e) => e.identity === id('coredns'));
      expect(dnsEntries).toHaveLength(1);
      expect(dnsEntries[0]).toMatchObject({ port: 53, protocol: 0, dns: [{ matchPattern: '*' }] });
      expect(decideDnsQuery(policy, id('coredns'), 53, Protocol.UDP, 'www.google.com').verdict).toBe('allowed');
      expect(decideDnsQuery(policy, id('coredns'), 53, Protocol.UDP, 'one.one.one.one').verdict).toBe('allowed');
    });

    it('denies www.google.com before any DNS answer names its address', () => {
      const { policy, cidrIdentities } = resolveFor('pod-to-external-fqdn-allow-google-cnp');
      expect(decide(policy, 'egress', worldIdentityOf(GOOGLE, cidrIdentities), 80, Protocol.TCP).verdict).toBe('denied');
    });

    it('allows www.google.com’s address after the answer, and not another name’s', () => {
      const { policy, cidrIdentities } = resolveFor('pod-to-external-fqdn-allow-google-cnp', answers, 1_000);
      const google = worldIdentityOf(GOOGLE, cidrIdentities);
      expect(google).toBeGreaterThanOrEqual(16777217);
      expect(decide(policy, 'egress', google, 80, Protocol.TCP)).toMatchObject({
        verdict: 'allowed',
        policies: [{ name: 'pod-to-external-fqdn-allow-google-cnp' }],
      });
      expect(decide(policy, 'egress', worldIdentityOf(ONE_ONE, cidrIdentities), 80, Protocol.TCP).verdict).toBe('denied');
    });

    it('stops allowing the address once the answer’s TTL has run out', () => {
      const { policy, cidrIdentities } = resolveFor('pod-to-external-fqdn-allow-google-cnp', answers, 30_000);
      expect(decide(policy, 'egress', worldIdentityOf(GOOGLE, cidrIdentities), 80, Protocol.TCP).verdict).toBe('denied');
    });
  });
});
