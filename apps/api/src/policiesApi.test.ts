import { afterEach, describe, expect, it } from 'vitest';
import { createCiliumCrds, startTestApiServer, type TestApiServer } from '@tycho/kube/labApiServer.fixture';
import type { KubeObject } from '@tycho/lab-apiserver';
import { policyObjectsFromText } from '@tycho/policy';
import { createApiCluster } from './apiCluster.ts';
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
let apiServer: TestApiServer | undefined;
let kube: ReturnType<typeof createApiCluster> | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  await kube?.close();
  kube = undefined;
  await apiServer?.close();
  apiServer = undefined;
});

/** The resource of a stored object's kind on the lab API server double. */
const RESOURCE_OF: Record<string, [string, string, string]> = {
  Pod: ['', 'v1', 'pods'],
  Namespace: ['', 'v1', 'namespaces'],
  CiliumNetworkPolicy: ['cilium.io', 'v2', 'ciliumnetworkpolicies'],
  CiliumClusterwideNetworkPolicy: ['cilium.io', 'v2', 'ciliumclusterwidenetworkpolicies'],
  NetworkPolicy: ['networking.k8s.io', 'v1', 'networkpolicies'],
};

function create(server: TestApiServer, object: KubeObject): KubeObject {
  const [group, version, plural] = RESOURCE_OF[object.kind ?? ''] ?? ['', '', ''];
  const resource = server.resource(group, version, plural);
  return server.store.create(resource, resource.namespaced ? (object.metadata.namespace ?? 'default') : '', object);
}

describe('GET /api/v1/policies', () => {
  it('lists the policies stored in the Kubernetes API with the pods each selects on every node and the directions it enforces there', async () => {
    const server = await startTestApiServer();
    apiServer = server;
    createCiliumCrds(server.store);
    create(server, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'a' } } });
    const pod = (namespace: string, name: string, app: string, node: string) =>
      create(server, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: { name: app } }, spec: { nodeName: node, containers: [{ name: 'main', image: 'tycho/echo' }] }, status: { podIP: '10.244.0.9' } });
    pod('default', 'client-1', 'pod-to-a-allowed-cnp', 'node-1');
    pod('default', 'echo-a-1', 'echo-a', 'node-2');
    pod('default', 'echo-a-2', 'echo-a', 'node-1');
    pod('team-a', 'worker-1', 'worker', 'node-2');
    const stored = policyObjectsFromText(POLICIES).map((object) => create(server, { ...(object as KubeObject), metadata: { namespace: 'default', ...(object as KubeObject).metadata } }));

    kube = createApiCluster({ kubeConfig: await server.kubeConfig() });
    await kube.synced;
    cluster = await startTestCluster(['node-1'], { kube });
    const response = await cluster.get('/api/v1/policies');
    expect(response.status).toBe(200);
    expect(response.body as PolicyList).toEqual({
      revision: Math.max(...stored.map((object) => Number(object.metadata.resourceVersion))),
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

  it('lists a stored policy that does not parse under invalid, and the others as they are', async () => {
    const server = await startTestApiServer();
    apiServer = server;
    createCiliumCrds(server.store);
    create(server, { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'broken', namespace: 'default' }, spec: { endpointSelector: { matchLabels: { name: 'x' } }, egress: [{ toPorts: [{ ports: [{ port: '99999', protocol: 'TCP' }] }] }] } });
    create(server, { ...(policyObjectsFromText(POLICIES)[0] as KubeObject), metadata: { name: 'pod-to-a-allowed-cnp', namespace: 'default' } });
    kube = createApiCluster({ kubeConfig: await server.kubeConfig() });
    await kube.synced;
    cluster = await startTestCluster(['node-1'], { kube });
    const body = (await cluster.get('/api/v1/policies')).body as PolicyList;
    expect(body.policies.map((policy) => policy.name)).toEqual(['pod-to-a-allowed-cnp']);
    expect(body.invalid).toEqual([expect.stringContaining('CiliumNetworkPolicy default/broken')]);
  });

  it('answers 503 saying what is missing when the API has no Kubernetes API', async () => {
    cluster = await startTestCluster(['node-1']);
    const response = await cluster.get('/api/v1/policies');
    expect(response.status).toBe(503);
    expect((response.body as { error: string }).error).toMatch(/^no Kubernetes API: start the API with --kubeconfig/);
  });
});
