import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectoryKubeStore } from '@tycho/kube';
import { policyObjectsFromText } from '@tycho/policy';
import type { PolicyList } from './policiesApi.ts';
import { startTestCluster, type TestCluster } from './testAgents.ts';

const POLICIES = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: pod-to-a-allowed-cnp }
spec:
  endpointSelector: { matchLabels: { name: pod-to-a-allowed-cnp } }
  egress:
    - toEndpoints: [{ matchLabels: { name: echo-a } }]
      toPorts: [{ ports: [{ port: "8080", protocol: TCP }] }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: echo-from-team-a, namespace: default }
spec:
  podSelector: { matchLabels: { name: echo-a } }
  ingress:
    - from: [{ namespaceSelector: { matchLabels: { team: a } } }]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: { name: team-a-only }
spec:
  endpointSelector: { matchLabels: { "io.cilium.k8s.namespace.labels.team": a } }
  ingress:
    - fromEntities: [cluster]
`;

let cluster: TestCluster | undefined;
let kubeDir: string | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  if (kubeDir) rmSync(kubeDir, { recursive: true, force: true });
});

describe('GET /api/v1/policies', () => {
  it('lists the stored policies with the pods each selects on every node and the directions it enforces there', async () => {
    kubeDir = mkdtempSync(join(tmpdir(), 'tycho-api-kube-'));
    const store = new DirectoryKubeStore(kubeDir);
    const pod = (namespace: string, name: string, app: string, node: string) =>
      store.put('pods', { metadata: { name, namespace, labels: { name: app } }, spec: { nodeName: node, containers: [] }, status: { podIP: '10.244.0.9' } });
    pod('default', 'client-1', 'pod-to-a-allowed-cnp', 'node-1');
    pod('default', 'echo-a-1', 'echo-a', 'node-2');
    pod('default', 'echo-a-2', 'echo-a', 'node-1');
    pod('team-a', 'worker-1', 'worker', 'node-2');
    store.put('namespaces', { metadata: { name: 'team-a', labels: { team: 'a' } } });
    store.policies.apply([{ objects: policyObjectsFromText(POLICIES) }]);

    cluster = await startTestCluster(['node-1'], { kube: store });
    const response = await cluster.get('/api/v1/policies');
    expect(response.status).toBe(200);
    expect(response.body as PolicyList).toEqual({
      revision: 1,
      policies: [
        {
          kind: 'CiliumClusterwideNetworkPolicy', namespace: '', name: 'team-a-only',
          selects: [{ namespace: 'team-a', pod_name: 'worker-1', node_name: 'node-2', ingress: true, egress: false }],
        },
        {
          kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'pod-to-a-allowed-cnp',
          selects: [{ namespace: 'default', pod_name: 'client-1', node_name: 'node-1', ingress: false, egress: true }],
        },
        {
          kind: 'NetworkPolicy', namespace: 'default', name: 'echo-from-team-a',
          selects: [
            { namespace: 'default', pod_name: 'echo-a-1', node_name: 'node-2', ingress: true, egress: false },
            { namespace: 'default', pod_name: 'echo-a-2', node_name: 'node-1', ingress: true, egress: false },
          ],
        },
      ],
    });
  });

  it('answers 503 saying what is missing when the API has no KubeStore', async () => {
    cluster = await startTestCluster(['node-1']);
    const response = await cluster.get('/api/v1/policies');
    expect(response.status).toBe(503);
    expect((response.body as { error: string }).error).toMatch(/^no policy store: start the API with --kube-dir/);
  });
});
