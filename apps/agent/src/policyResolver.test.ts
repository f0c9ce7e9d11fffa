import { afterEach, describe, expect, it, vi } from 'vitest';
import { type DnsRecord, decide, type Identity, type Policy, parsePolicyText, policyObjectsFromText, worldIdentityOf } from '@tycho/policy';
import type { PolicyKey, PolicyValue } from '@tycho/datapath';
import { createBpfPolicyDatapath, type PolicyMapHandle, type PolicyMapSet } from './bpfPolicyDatapath.ts';
import { createRecordingPolicyDatapath, type RecordingPolicyDatapath } from './policyDatapath.ts';
import { type PolicyEndpointView, PolicyResolver } from './policyResolver.ts';

const ALLOWED_CNP = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: pod-to-a-allowed-cnp, namespace: default }
spec:
  endpointSelector: { matchLabels: { name: pod-to-a-allowed-cnp } }
  egress:
    - toEndpoints: [{ matchLabels: { name: echo-a } }]
      toPorts: [{ ports: [{ port: "8080", protocol: TCP }] }]
`;
const FQDN_CNP = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: fqdn, namespace: default }
spec:
  endpointSelector: { matchLabels: { name: pod-to-a-allowed-cnp } }
  egress:
    - toFQDNs: [{ matchPattern: "*.google.com" }]
`;
const FROM_TEAM_A = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: from-team-a, namespace: default }
spec:
  podSelector: { matchLabels: { name: echo-a } }
  ingress:
    - from: [{ namespaceSelector: { matchLabels: { team: a } } }]
`;

const ECHO_A: Identity = { id: 300, labels: ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=echo-a'] };
const CLIENT: Identity = { id: 302, labels: ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=pod-to-a-allowed-cnp'] };
const TEAM_A_POD: Identity = { id: 310, labels: ['k8s:io.kubernetes.pod.namespace=team-a', 'k8s:name=x'] };

const endpoint = (id: number, identity: Identity, podName: string): PolicyEndpointView => ({ id, identity: identity.id, labels: identity.labels, namespace: 'default', podName });

interface Inputs {
  policies: Policy[];
  revision: number;
  endpoints: PolicyEndpointView[];
  namespaces: Map<string, Record<string, string>>;
  records: DnsRecord[];
  /** When set, reading the policies fails with this message. */
  readError?: string;
}

let resolver: PolicyResolver | undefined;
afterEach(() => {
  resolver?.close();
  resolver = undefined;
  vi.useRealTimers();
});

function setup(initial: Partial<Inputs> = {}): { inputs: Inputs; recording: RecordingPolicyDatapath; resolver: PolicyResolver } {
  const inputs: Inputs = { policies: [], revision: 0, endpoints: [endpoint(7, CLIENT, 'client'), endpoint(8, ECHO_A, 'echo-a')], namespaces: new Map(), records: [], ...initial };
  const recording = createRecordingPolicyDatapath();
  resolver = new PolicyResolver({
    readPolicies: () => {
      if (inputs.readError) throw new Error(inputs.readError);
      return { revision: inputs.revision, policies: inputs.policies };
    },
    namespaceLabels: () => inputs.namespaces,
    identities: () => [ECHO_A, CLIENT, TEAM_A_POD],
    endpoints: () => inputs.endpoints,
    dnsRecords: () => inputs.records,
    datapath: recording.datapath,
  });
  return { inputs, recording, resolver };
}

describe('PolicyResolver', () => {
  it('resolves again when the policies change and hands the datapath only the directions that changed', async () => {
    const { inputs, recording, resolver } = setup();
    await resolver.resolve();
    expect(recording.calls.map((call) => call.op === 'setEndpointPolicy' && `${call.endpointId} ${call.direction} ${call.state.enforced}`)).toEqual([
      '7 ingress false',
      '7 egress false',
      '8 ingress false',
      '8 egress false',
    ]);
    recording.calls.length = 0;

    inputs.policies = parsePolicyText(ALLOWED_CNP);
    inputs.revision = 1;
    await resolver.resolve();
    expect(recording.calls).toHaveLength(1);
    const [call] = recording.calls;
    expect(call).toMatchObject({ op: 'setEndpointPolicy', endpointId: 7, direction: 'egress', state: { enforced: true, needsLookup: true } });
    expect(call?.op === 'setEndpointPolicy' && call.state.keys.map((key) => [key.identity, key.protocol, key.port, key.prefixLen, key.deny])).toEqual([[300, 6, 8080, 24, false]]);
    expect(resolver.revision).toBe(1);
    expect(decide(resolver.policyOf(7)!, 'egress', ECHO_A.id, 8080, 6).verdict).toBe('allowed');

    await resolver.resolve();
    expect(recording.calls).toHaveLength(1);
  });

  it('removes the state of an endpoint that went away', async () => {
    const { inputs, recording, resolver } = setup();
    await resolver.resolve();
    inputs.endpoints = inputs.endpoints.filter((view) => view.id !== 8);
    await resolver.resolve();
    expect(recording.calls.at(-1)).toEqual({ op: 'removeEndpoint', endpointId: 8 });
    expect(resolver.policyOf(8)).toBeUndefined();
  });

  it("adds namespaces' labels to identities, so a NetworkPolicy namespaceSelector selects their pods", async () => {
    const { inputs, resolver } = setup({ policies: parsePolicyText(FROM_TEAM_A) });
    await resolver.resolve();
    expect(decide(resolver.policyOf(8)!, 'ingress', TEAM_A_POD.id, 80, 6).verdict).toBe('denied');
    inputs.namespaces = new Map([['team-a', { team: 'a' }]]);
    await resolver.resolve();
    expect(decide(resolver.policyOf(8)!, 'ingress', TEAM_A_POD.id, 80, 6)).toEqual({
      verdict: 'allowed',
      policies: [{ kind: 'NetworkPolicy', namespace: 'default', name: 'from-team-a' }],
    });
  });

  it('keeps the last good policies when the store cannot be read, and says why in its status', async () => {
    const { inputs, resolver } = setup({ policies: parsePolicyText(ALLOWED_CNP), revision: 4 });
    await resolver.resolve();
    inputs.readError = 'the policy informers are closed';
    inputs.revision = 5;
    await resolver.resolve();
    expect(resolver.revision).toBe(4);
    expect(resolver.status()).toMatchObject({ revision: 4, error: 'the policy informers are closed', policies: [{ name: 'pod-to-a-allowed-cnp' }] });
    expect(resolver.policyOf(7)?.egress.enforced).toBe(true);
  });

  it('resolves again by itself when a DNS answer a toFQDNs rule uses runs out', async () => {
    // setImmediate stays real: the resolver gives way to the event loop between steps.
    vi.useFakeTimers({ now: Date.UTC(2024, 0, 1), toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const records = [{ name: 'www.google.com', ip: '198.51.100.14', expiresAtMs: Date.now() + 30_000 }];
    const { recording, resolver } = setup({ policies: parsePolicyText(FQDN_CNP), records });
    await resolver.resolve();
    const [googleIdentity] = resolver.cidrIdentities();
    expect(googleIdentity?.labels).toEqual(['cidr:198.51.100.14/32', 'reserved:world']);
    expect(recording.cidrIdentities.size).toBe(1);
    const identityOfGoogle = () => worldIdentityOf('198.51.100.14', resolver.cidrIdentities());
    expect(decide(resolver.policyOf(7)!, 'egress', identityOfGoogle(), 443, 6).verdict).toBe('allowed');
    expect(resolver.status().next_dns_expiry).toBe('2024-01-01T00:00:30.000Z');

    const before = resolver.resolutionCount;
    vi.advanceTimersByTime(30_000);
    await resolver.idle();
    expect(resolver.resolutionCount).toBe(before + 1);
    expect(recording.calls.at(-1)).toMatchObject({ op: 'setEndpointPolicy', endpointId: 7, direction: 'egress' });
    expect(recording.cidrIdentities.size).toBe(0);
    expect(decide(resolver.policyOf(7)!, 'egress', identityOfGoogle(), 443, 6).verdict).toBe('denied');
    expect(resolver.status().next_dns_expiry).toBeUndefined();
  });

  it('sends again at the next resolution what the datapath failed to apply', async () => {
    const { inputs, recording, resolver } = setup();
    await resolver.resolve();
    const setEndpointPolicy = recording.datapath.setEndpointPolicy;
    recording.datapath.setEndpointPolicy = () => {
      throw new Error('map full');
    };
    inputs.policies = parsePolicyText(ALLOWED_CNP);
    await resolver.resolve();
    expect(recording.endpoints.get(7)?.egress?.enforced).toBe(false);
    recording.datapath.setEndpointPolicy = setEndpointPolicy;
    await resolver.resolve();
    expect(recording.endpoints.get(7)?.egress?.enforced).toBe(true);
  });

  it('shows per endpoint what is in force', async () => {
    const { resolver } = setup({ policies: parsePolicyText(ALLOWED_CNP), revision: 2 });
    await resolver.resolve();
    expect(resolver.status()).toEqual({
      revision: 2,
      programmed_revision: 2,
      policies: [{ kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'pod-to-a-allowed-cnp' }],
      endpoints: [
        {
          id: 7, namespace: 'default', pod_name: 'client', identity: 302,
          selected_by: ['CiliumNetworkPolicy default/pod-to-a-allowed-cnp'],
          ingress: { enforced: false, enforced_by: [], rules: 0 },
          egress: { enforced: true, enforced_by: ['CiliumNetworkPolicy default/pod-to-a-allowed-cnp'], rules: 1 },
        },
        {
          id: 8, namespace: 'default', pod_name: 'echo-a', identity: 300, selected_by: [],
          ingress: { enforced: false, enforced_by: [], rules: 0 },
          egress: { enforced: false, enforced_by: [], rules: 0 },
        },
      ],
      cidr_identities: 0,
    });
  });
});

/** A CNP for the client with `count` egress rules, rule i to 10.x.y.z/32 (one per rule) on TCP port 1000 + i % 5000; `changed` moves rule i to 11.x.y.z. */
function manyRuleCnp(count: number, changed?: number): Policy[] {
  const egress = Array.from({ length: count }, (_, i) => ({
    toCIDR: [`${i === changed ? 11 : 10}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`],
    toPorts: [{ ports: [{ port: String(1000 + (i % 5000)), protocol: 'TCP' }] }],
  }));
  const object = { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'many', namespace: 'default' }, spec: { endpointSelector: { matchLabels: { name: 'pod-to-a-allowed-cnp' } }, egress } };
  return parsePolicyText(JSON.stringify(object));
}

/** In-memory policy maps; `writes` counts the writes made to the policy map. */
function countingMaps(maxPolicyKeys: number) {
  const writes = { set: 0, delete: 0 };
  const handle = <K, V>(id: (key: K) => string, counted = false): PolicyMapHandle<K, V> => {
    const entries = new Map<string, [K, V]>();
    return {
      get: (key) => entries.get(id(key))?.[1],
      set: (key, value) => {
        if (counted) writes.set++;
        entries.set(id(key), [key, value]);
      },
      delete: (key) => {
        if (counted) writes.delete++;
        return entries.delete(id(key));
      },
      keys: () => [...entries.values()].map(([key]) => key),
    };
  };
  const policy = handle<PolicyKey, PolicyValue>((k) => `${k.endpointId}/${k.direction}/${k.identity}/${k.protocol}/${k.port}/${k.prefixLen}`, true);
  const maps: PolicyMapSet = {
    ipcache: handle((k: { address: string; prefixLen: number }) => `${k.address}/${k.prefixLen}`),
    policy: Object.assign(policy, { info: { name: 'tycho_policy', maxEntries: maxPolicyKeys } }),
    endpoints: handle((k: number) => String(k)),
  };
  return { maps, writes, policyKeys: () => [...policy.keys()] };
}

function resolverOn(datapath: RecordingPolicyDatapath['datapath'], inputs: Pick<Inputs, 'policies'>): PolicyResolver {
  return new PolicyResolver({
    readPolicies: () => ({ revision: 1, policies: inputs.policies }),
    namespaceLabels: () => new Map(),
    identities: () => [ECHO_A, CLIENT],
    endpoints: () => [endpoint(7, CLIENT, 'client'), endpoint(8, ECHO_A, 'echo-a')],
    dnsRecords: () => [],
    datapath,
  });
}

describe('PolicyResolver with a large policy', () => {
  it('gives way to the event loop while it resolves a 10,000-rule policy: a timer set after it starts runs before it ends', async () => {
    const { resolver } = setup({ policies: manyRuleCnp(10_000) });
    const order: string[] = [];
    const resolved = resolver.resolve().then(() => order.push('resolved'));
    setImmediate(() => order.push('timer'));
    await resolved;
    expect(order).toEqual(['timer', 'resolved']);
    expect(resolver.policyOf(7)?.egress.entries).toHaveLength(10_000);
  });

  it('when one rule of a 10,000-rule policy changes, writes only the keys that changed to the policy map', async () => {
    const { maps, writes, policyKeys } = countingMaps(262_144);
    const inputs = { policies: manyRuleCnp(10_000) };
    resolver = resolverOn(createBpfPolicyDatapath(maps), inputs);
    await resolver.resolve();
    expect(policyKeys().filter((key) => key.endpointId === 7)).toHaveLength(10_000);
    const before = { ...writes };

    inputs.policies = manyRuleCnp(10_000, 5000);
    await resolver.resolve();
    // One key for the new CIDR identity in, one for the old out; the other 9,999 are left alone.
    expect({ set: writes.set - before.set, delete: writes.delete - before.delete }).toEqual({ set: 1, delete: 1 });
    expect(policyKeys().filter((key) => key.endpointId === 7)).toHaveLength(10_000);
  });

  it('refuses a policy that does not fit the policy map, whole, keeps the previous one in force and says why in its status', async () => {
    const { maps, policyKeys } = countingMaps(100);
    const inputs = { policies: parsePolicyText(ALLOWED_CNP) };
    resolver = resolverOn(createBpfPolicyDatapath(maps), inputs);
    await resolver.resolve();
    const allowedKeys = policyKeys();
    expect(allowedKeys).toHaveLength(1);

    inputs.policies = manyRuleCnp(500);
    await resolver.resolve();
    expect(policyKeys()).toEqual(allowedKeys);
    const client = resolver.status().endpoints.find((status) => status.id === 7);
    expect(client?.datapath_error).toMatch(/^egress: policy map tycho_policy is full: endpoint 7 egress needs 500 keys \(500 new\), 1 of at most 100 are in use/);

    inputs.policies = parsePolicyText(ALLOWED_CNP);
    await resolver.resolve();
    expect(resolver.status().endpoints.find((status) => status.id === 7)?.datapath_error).toBeUndefined();
  });
});
