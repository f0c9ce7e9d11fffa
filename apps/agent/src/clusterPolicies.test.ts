import type { KubernetesObject } from '@kubernetes/client-node';
import { policyObjectsFromText } from '@tycho/policy';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClusterPolicyReader } from '@tycho/kube';
import { startTestCluster, type TestCluster } from './clusterState.fixture.ts';
import type { ClusterState } from './clusterState.ts';
import { createRecordingPolicyDatapath } from './policyDatapath.ts';
import { PolicyResolver } from './policyResolver.ts';

const ALLOWED_CNP = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: pod-to-a-allowed-cnp, namespace: default }
spec:
  endpointSelector: { matchLabels: { name: pod-to-a-allowed-cnp } }
  egress:
    - toEndpoints: [{ matchLabels: { name: echo-a } }]
      toPorts: [{ ports: [{ port: "8080", protocol: TCP }] }]
`;
const CLIENT_LABELS = ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=pod-to-a-allowed-cnp'];
const ECHO_LABELS = ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=echo-a'];

const stored = (text: string) => policyObjectsFromText(text)[0] as KubernetesObject;

let cluster: TestCluster;
let state: ClusterState;
let resolver: PolicyResolver | undefined;

beforeEach(async () => {
  cluster = await startTestCluster();
  state = cluster.clusterState('node-1');
  await state.synced;
});
afterEach(async () => {
  resolver?.close();
  resolver = undefined;
  await cluster.close();
});

describe('createClusterPolicyReader', () => {
  it('reads CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and NetworkPolicy objects from the informers, at the revision of the last change', async () => {
    const reader = createClusterPolicyReader(state.informers);
    const cnp = cluster.put('ciliumnetworkpolicies', stored(ALLOWED_CNP));
    cluster.put('ciliumclusterwidenetworkpolicies', { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy', metadata: { name: 'all' }, spec: { endpointSelector: {}, ingress: [{ fromEntities: ['cluster'] }] } });
    cluster.put('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    const np = cluster.put('networkpolicies', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'team-a' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });
    await vi.waitFor(() => expect(reader.read().policies).toHaveLength(3));
    const read = reader.read();
    expect(read.policies.map((policy) => `${policy.ref.kind} ${policy.ref.namespace}/${policy.ref.name}`)).toEqual([
      'CiliumClusterwideNetworkPolicy /all',
      'CiliumNetworkPolicy default/pod-to-a-allowed-cnp',
      'NetworkPolicy team-a/deny',
    ]);
    expect(read.revision).toBe(Math.max(Number(cnp.metadata.resourceVersion), Number(np.metadata.resourceVersion)));
    expect(read.invalid).toEqual([]);

    const deleted = cluster.remove('ciliumnetworkpolicies', 'default', 'pod-to-a-allowed-cnp');
    await vi.waitFor(() => expect(reader.read().policies).toHaveLength(2));
    expect(reader.read().revision).toBe(Number(deleted.metadata.resourceVersion));
    reader.close();
  });

  it('leaves out a stored object that does not parse and reports it, keeping the others in force', async () => {
    const reader = createClusterPolicyReader(state.informers);
    cluster.put('ciliumnetworkpolicies', stored(ALLOWED_CNP));
    cluster.put('ciliumnetworkpolicies', { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'broken', namespace: 'default' }, spec: { endpointSelector: { matchLabels: { name: 'x' } }, egress: [{ toPorts: [{ ports: [{ port: '99999', protocol: 'TCP' }] }] }] } });
    await vi.waitFor(() => expect(reader.read().invalid).toHaveLength(1));
    expect(reader.read().invalid[0]).toContain('CiliumNetworkPolicy default/broken');
    expect(reader.read().policies.map((policy) => policy.ref.name)).toEqual(['pod-to-a-allowed-cnp']);
    reader.close();
  });

  it('brings a policy applied through the API server to the resolver and the datapath, and its deletion too', async () => {
    const reader = createClusterPolicyReader(state.informers);
    const recording = createRecordingPolicyDatapath();
    resolver = new PolicyResolver({
      readPolicies: reader.read,
      namespaceLabels: () => state.namespaceLabels(),
      identities: () => [
        { id: 300, labels: ECHO_LABELS },
        { id: 302, labels: CLIENT_LABELS },
      ],
      endpoints: () => [{ id: 7, identity: 302, labels: CLIENT_LABELS, namespace: 'default', podName: 'client' }],
      dnsRecords: () => [],
      datapath: recording.datapath,
    });
    const live = resolver;
    // What the agent does: every informer change schedules one resolution.
    const unsubscribe = state.subscribe(() => live.schedule());
    await live.resolve();
    expect(recording.endpoints.get(7)?.egress?.enforced).toBe(false);

    const applied = cluster.put('ciliumnetworkpolicies', stored(ALLOWED_CNP));
    await vi.waitFor(() => expect(live.status().programmed_revision).toBe(Number(applied.metadata.resourceVersion)), { timeout: 10_000 });
    expect(recording.endpoints.get(7)?.egress?.keys.map((key) => [key.identity, key.protocol, key.port])).toEqual([[300, 6, 8080]]);

    const deleted = cluster.remove('ciliumnetworkpolicies', 'default', 'pod-to-a-allowed-cnp');
    await vi.waitFor(() => expect(live.status().programmed_revision).toBe(Number(deleted.metadata.resourceVersion)), { timeout: 10_000 });
    expect(recording.endpoints.get(7)?.egress?.enforced).toBe(false);
    unsubscribe();
    reader.close();
  });
});
