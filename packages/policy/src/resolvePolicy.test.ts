import { describe, expect, it } from 'vitest';
import { decide, decideDnsQuery } from './decide.ts';
import { CidrIdentityAllocator, type Identity, worldIdentityOf } from './identities.ts';
import { namespaceIdentityLabels } from './labels.ts';
import { parsePolicy } from './parsePolicy.ts';
import type { Policy } from './policyModel.ts';
import { type EndpointPolicy, type PolicyEndpoint, Protocol, requiredCidrs, resolveEndpointPolicies } from './resolvePolicy.ts';

const TCP = Protocol.TCP;
const UDP = Protocol.UDP;

const pod = (id: number, namespace: string, labels: Record<string, string>): Identity => ({
  id,
  labels: [...Object.entries(labels).map(([k, v]) => `k8s:${k}=${v}`), `k8s:io.kubernetes.pod.namespace=${namespace}`],
});
const client = pod(300, 'default', { app: 'client' });
const echo = pod(301, 'default', { app: 'echo' });
const dns = pod(302, 'kube-system', { 'k8s-app': 'kube-dns' });
const otherClient = pod(303, 'team', { app: 'client' });
const workloads = [client, echo, dns, otherClient];

function cnp(name: string, spec: unknown, namespace = 'default'): Policy {
  return parsePolicy({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name, namespace }, spec });
}

function endpointOf(identity: Identity, extra: Partial<PolicyEndpoint> = {}): PolicyEndpoint {
  return { id: identity.id - 299, identity: identity.id, labels: identity.labels, ...extra };
}

function resolve(policies: Policy[], identity: Identity = client, extraIdentities: Identity[] = [], extra: Partial<PolicyEndpoint> = {}): EndpointPolicy {
  const [policy] = resolveEndpointPolicies([endpointOf(identity, extra)], { policies, identities: [...workloads, ...extraIdentities], nowMs: 0 });
  return policy!;
}

const names = (decision: { policies: readonly { name: string }[] }) => decision.policies.map((p) => p.name);

describe('resolveEndpointPolicies: enforcement', () => {
  it('turns on default deny only in the direction a policy has rules for', () => {
    const policy = resolve([cnp('egress-only', { endpointSelector: { matchLabels: { app: 'client' } }, egress: [{ toEndpoints: [{ matchLabels: { app: 'echo' } }] }] })]);
    expect(policy.egress.enforced).toBe(true);
    expect(policy.ingress.enforced).toBe(false);
    expect(decide(policy, 'ingress', otherClient.id, 80, TCP).verdict).toBe('not-enforced');
    expect(decide(policy, 'egress', dns.id, 53, UDP)).toMatchObject({ verdict: 'denied' });
    expect(names(decide(policy, 'egress', dns.id, 53, UDP))).toEqual(['egress-only']);
  });

  it('does not apply a policy to endpoints it does not select, nor to other namespaces', () => {
    const policies = [cnp('p', { endpointSelector: { matchLabels: { app: 'client' } }, egress: [{}] })];
    expect(resolve(policies, echo).egress.enforced).toBe(false);
    expect(resolve(policies, otherClient).egress.enforced).toBe(false);
    expect(resolve(policies, client).selectedBy.map((r) => r.name)).toEqual(['p']);
  });

  it('applies a clusterwide policy in every namespace', () => {
    const ccnp = parsePolicy({
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumClusterwideNetworkPolicy',
      metadata: { name: 'all-clients' },
      spec: { endpointSelector: { matchLabels: { app: 'client' } }, egress: [{}] },
    });
    expect(resolve([ccnp], otherClient).egress.enforced).toBe(true);
    expect(resolve([ccnp], client).egress.enforced).toBe(true);
  });

  it('denies everything with an empty rule and allows nothing else', () => {
    const policy = resolve([cnp('lockdown', { endpointSelector: {}, ingress: [{}] })], echo);
    expect(policy.ingress.entries).toEqual([]);
    expect(decide(policy, 'ingress', client.id, 8080, TCP).verdict).toBe('denied');
  });
});

describe('resolveEndpointPolicies: rule kinds', () => {
  it('allows toEndpoints on the listed port and protocol only', () => {
    const policy = resolve([
      cnp('to-echo', {
        endpointSelector: { matchLabels: { app: 'client' } },
        egress: [{ toEndpoints: [{ matchLabels: { app: 'echo' } }], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] }],
      }),
    ]);
    expect(policy.egress.entries).toEqual([{ identity: echo.id, protocol: TCP, port: 8080, endPort: 8080, deny: false, policies: [{ kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'to-echo' }] }]);
    expect(decide(policy, 'egress', echo.id, 8080, TCP).verdict).toBe('allowed');
    expect(decide(policy, 'egress', echo.id, 8080, UDP).verdict).toBe('denied');
    expect(decide(policy, 'egress', echo.id, 9090, TCP).verdict).toBe('denied');
    expect(decide(policy, 'egress', dns.id, 8080, TCP).verdict).toBe('denied');
  });

  it('allows every peer on the ports of a rule that names no peer', () => {
    const policy = resolve([cnp('web', { endpointSelector: { matchLabels: { app: 'echo' } }, ingress: [{ toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] }] })], echo);
    expect(policy.ingress.entries.map((e) => e.identity)).toEqual([0]);
    expect(decide(policy, 'ingress', 2, 8080, TCP).verdict).toBe('allowed');
    expect(decide(policy, 'ingress', 2, 22, TCP).verdict).toBe('denied');
  });

  it('covers port ranges with endPort', () => {
    const policy = resolve([cnp('range', { endpointSelector: {}, egress: [{ toPorts: [{ ports: [{ port: '8000', endPort: 8010, protocol: 'TCP' }] }] }] })]);
    expect(decide(policy, 'egress', echo.id, 8005, TCP).verdict).toBe('allowed');
    expect(decide(policy, 'egress', echo.id, 8011, TCP).verdict).toBe('denied');
  });

  it('resolves named ports: ingress from the endpoint’s own ports, egress from the cluster’s', () => {
    const spec = { endpointSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: 'http' }] }] }], egress: [{ toPorts: [{ ports: [{ port: 'metrics', protocol: 'TCP' }] }] }] };
    const [policy] = resolveEndpointPolicies([endpointOf(echo, { namedPorts: [{ name: 'http', port: 8080, protocol: 'TCP' }] })], {
      policies: [cnp('named', spec)],
      identities: workloads,
      nowMs: 0,
      clusterNamedPorts: [{ name: 'metrics', port: 9965, protocol: 'TCP' }],
    });
    expect(decide(policy!, 'ingress', client.id, 8080, TCP).verdict).toBe('allowed');
    expect(decide(policy!, 'egress', client.id, 9965, TCP).verdict).toBe('allowed');
    expect(decide(policy!, 'egress', client.id, 8080, TCP).verdict).toBe('denied');
  });

  it('maps entities to reserved identities: world, host, remote-node, kube-apiserver, cluster, all', () => {
    const [cidr] = new CidrIdentityAllocator().sync(['192.0.2.0/24']).added;
    const entity = (e: string) =>
      resolve([cnp('e', { endpointSelector: {}, egress: [{ toEntities: [e] }] })], client, [cidr!]).egress.entries.map((x) => x.identity);
    expect(entity('world')).toEqual([2, cidr!.id]);
    expect(entity('host')).toEqual([1]);
    expect(entity('remote-node')).toEqual([6]);
    expect(entity('kube-apiserver')).toEqual([7]);
    expect(entity('all')).toEqual([0]);
    expect(entity('cluster')).toEqual([1, 3, 4, 5, 6, 7, 8, client.id, echo.id, dns.id, otherClient.id]);
  });

  it('selects reserved identities by reserved: labels in toEndpoints', () => {
    const policy = resolve([cnp('host', { endpointSelector: {}, egress: [{ toEndpoints: [{ matchLabels: { 'reserved:host': '' } }] }] })]);
    expect(policy.egress.entries.map((e) => e.identity)).toEqual([1]);
  });

  it('allows CIDRs through CIDR identities, except the excepted ranges, and matches addresses by longest prefix', () => {
    const policies = [cnp('cidr', { endpointSelector: {}, egress: [{ toCIDRSet: [{ cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] }] }] })];
    const needed = requiredCidrs(policies, [], 0);
    expect(needed).toEqual(['192.0.2.0/24', '192.0.2.128/25']);
    const allocator = new CidrIdentityAllocator();
    allocator.sync(needed);
    const cidrIdentities = allocator.identities();
    expect(cidrIdentities.map((i) => i.id)).toEqual([16777217, 16777218]);
    const policy = resolve(policies, client, cidrIdentities);
    const at = (ip: string) => decide(policy, 'egress', worldIdentityOf(ip, cidrIdentities), 443, TCP).verdict;
    expect(at('192.0.2.10')).toBe('allowed');
    expect(at('192.0.2.200')).toBe('denied');
    expect(at('198.51.100.1')).toBe('denied');
  });

  it('lets 0.0.0.0/0 stand for the whole world, including addresses without a CIDR identity', () => {
    const policy = resolve([cnp('any', { endpointSelector: {}, egress: [{ toCIDR: ['0.0.0.0/0'] }] })]);
    expect(decide(policy, 'egress', 2, 443, TCP).verdict).toBe('allowed');
    expect(decide(policy, 'egress', echo.id, 443, TCP).verdict).toBe('denied');
  });

  it('selects pods by namespace labels for a NetworkPolicy namespaceSelector', () => {
    const dnsWithNamespace: Identity = { id: dns.id, labels: [...dns.labels, ...namespaceIdentityLabels('kube-system')] };
    const np = parsePolicy({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'to-kube-system', namespace: 'default' },
      spec: {
        podSelector: { matchLabels: { app: 'client' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ port: 53, protocol: 'UDP' }] }],
      },
    });
    const policy = resolve([np], client, [dnsWithNamespace]);
    expect(decide(policy, 'egress', dns.id, 53, UDP).verdict).toBe('allowed');
    expect(decide(policy, 'egress', echo.id, 53, UDP).verdict).toBe('denied');
    expect(decide(policy, 'ingress', echo.id, 80, TCP).verdict).toBe('not-enforced');
  });

  it('names every policy that allows the traffic', () => {
    const spec = { endpointSelector: { matchLabels: { app: 'client' } }, egress: [{ toEndpoints: [{ matchLabels: { app: 'echo' } }] }] };
    const policy = resolve([cnp('b', spec), cnp('a', { ...spec, egress: [{ toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] }] })]);
    expect(names(decide(policy, 'egress', echo.id, 8080, TCP)).sort()).toEqual(['a', 'b']);
    expect(names(decide(policy, 'egress', echo.id, 22, TCP))).toEqual(['b']);
  });
});

describe('decideDnsQuery', () => {
  it('allows only the names the DNS rules match, unless another rule allows the port without DNS rules', () => {
    const dnsRule = {
      toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s-app': 'kube-dns' } }],
      toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }], rules: { dns: [{ matchName: 'echo.default.svc.cluster.local' }, { matchPattern: '*.google.com' }] } }],
    };
    const policy = resolve([cnp('dns', { endpointSelector: {}, egress: [dnsRule] })]);
    expect(decideDnsQuery(policy, dns.id, 53, UDP, 'echo.default.svc.cluster.local.').verdict).toBe('allowed');
    expect(decideDnsQuery(policy, dns.id, 53, UDP, 'www.google.com').verdict).toBe('allowed');
    expect(decideDnsQuery(policy, dns.id, 53, UDP, 'example.com')).toMatchObject({ verdict: 'denied', policies: [{ name: 'dns' }] });
    const widened = resolve([cnp('dns', { endpointSelector: {}, egress: [dnsRule] }), cnp('any-dns', { endpointSelector: {}, egress: [{ toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }] }] }] })]);
    expect(decideDnsQuery(widened, dns.id, 53, UDP, 'example.com')).toMatchObject({ verdict: 'allowed', policies: [{ name: 'any-dns' }] });
  });
});

describe('resolveEndpointPolicies: deny rules', () => {
  it('lets deny rules win over allow rules and names the deny policy', () => {
    const policy = resolve([
      cnp('allow-all', { endpointSelector: {}, egress: [{ toEntities: ['all'] }] }),
      cnp('no-echo-8080', { endpointSelector: {}, egressDeny: [{ toEndpoints: [{ matchLabels: { app: 'echo' } }], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }] }] }),
    ]);
    const denied = decide(policy, 'egress', echo.id, 8080, TCP);
    expect(denied.verdict).toBe('denied-by-deny-rule');
    expect(names(denied)).toEqual(['no-echo-8080']);
    expect(decide(policy, 'egress', echo.id, 9090, TCP)).toMatchObject({ verdict: 'allowed', policies: [{ name: 'allow-all' }] });
  });

  it('applies deny rules where default deny is turned off', () => {
    const policy = resolve([cnp('deny-world', { endpointSelector: {}, enableDefaultDeny: { egress: false }, egressDeny: [{ toEntities: ['world'] }] })]);
    expect(policy.egress.enforced).toBe(false);
    expect(decide(policy, 'egress', 2, 443, TCP).verdict).toBe('denied-by-deny-rule');
    expect(decide(policy, 'egress', echo.id, 443, TCP).verdict).toBe('not-enforced');
  });
});
