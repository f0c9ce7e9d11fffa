// A cluster for the agent's tests: the lab's API server double on loopback with Cilium's CRDs,
// objects written on its store as the lab's controllers would, and the agent's informers over it.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeObject } from '@tycho/lab-apiserver';
import { createCiliumCrds, startTestApiServer } from '@tycho/kube/labApiServer.fixture';
import { createClusterState, type ClusterState } from './clusterState.ts';

const RESOURCES = {
  pods: ['', 'v1', 'pods'],
  nodes: ['', 'v1', 'nodes'],
  namespaces: ['', 'v1', 'namespaces'],
  services: ['', 'v1', 'services'],
  endpointslices: ['discovery.k8s.io', 'v1', 'endpointslices'],
  networkpolicies: ['networking.k8s.io', 'v1', 'networkpolicies'],
  ciliumnetworkpolicies: ['cilium.io', 'v2', 'ciliumnetworkpolicies'],
  ciliumclusterwidenetworkpolicies: ['cilium.io', 'v2', 'ciliumclusterwidenetworkpolicies'],
} as const;

export type TestResource = keyof typeof RESOURCES;

export async function startTestCluster(options: { ciliumCrds?: boolean } = {}) {
  const api = await startTestApiServer();
  if (options.ciliumCrds !== false) createCiliumCrds(api.store);
  const kubeConfig = await api.kubeConfig();
  const states: ClusterState[] = [];
  const resourceOf = (kind: TestResource) => {
    const [group, version, plural] = RESOURCES[kind];
    return api.resource(group, version, plural);
  };

  return {
    api,
    /** Creates Cilium's CRDs, for a cluster started without them. */
    createCiliumCrds: () => createCiliumCrds(api.store),
    /** Creates the object, or replaces the stored one of that name; returns it as stored (with its resourceVersion). */
    put<T extends KubernetesObject>(kind: TestResource, object: T): KubeObject {
      const resource = resourceOf(kind);
      const namespace = resource.namespaced ? (object.metadata?.namespace ?? 'default') : '';
      const name = object.metadata?.name ?? '';
      const current = api.store.tryGet(resource, namespace, name);
      const body = { ...object, metadata: { ...object.metadata, namespace: resource.namespaced ? namespace : undefined } } as unknown as KubeObject;
      if (!current) return api.store.create(resource, namespace, body);
      return api.store.update(resource, namespace, name, { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } });
    },
    remove(kind: TestResource, namespace: string, name: string): KubeObject {
      const resource = resourceOf(kind);
      return api.store.delete(resource, resource.namespaced ? namespace : '', name);
    },
    /** The informers an agent on `nodeName` reads; closed with the cluster. */
    clusterState(nodeName: string): ClusterState {
      const state = createClusterState({ kubeConfig, nodeName, log: () => {} });
      states.push(state);
      return state;
    },
    async close(): Promise<void> {
      await Promise.all(states.map((state) => state.close()));
      await api.close();
    },
  } as const;
}

export type TestCluster = Awaited<ReturnType<typeof startTestCluster>>;
