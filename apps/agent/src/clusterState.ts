// The agent's view of the cluster, read only through informers over the Kubernetes API (in the
// lab, its API server double): its Node, the pods, services, EndpointSlices, namespaces and
// policies, and the cluster's identities. Reads are synchronous (the informers' caches);
// changes arrive as one stream the agent's reconcilers enqueue on.
import type { KubeConfig, V1EndpointSlice, V1Namespace, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { createClusterInformers, createIdentityAllocator, type ClusterInformers, type ClusterResource, type IdentityAllocator } from '@tycho/kube';

/** The cluster objects the ipcache and the service load-balancer read. */
export interface ClusterView {
  listPods(): V1Pod[];
  listNodes(): V1Node[];
  listServices(): V1Service[];
  listEndpointSlices(): V1EndpointSlice[];
  listNamespaces(): V1Namespace[];
}

export interface ClusterStateOptions {
  kubeConfig: KubeConfig;
  nodeName: string;
  log?: (message: string) => void;
}

export function createClusterState(options: ClusterStateOptions) {
  const onError = (what: string, error: Error, retryInMs: number) => options.log?.(`${what}: ${error.message}; retrying in ${retryInMs} ms`);
  // Pods of every node, not only this node's (spec.nodeName): the ipcache maps other nodes' pod
  // addresses to their identities, which Cilium learns from CiliumEndpoint objects Tycho does not write.
  const informers: ClusterInformers = createClusterInformers({
    kubeConfig: options.kubeConfig,
    onError: (resource: ClusterResource, error, retryInMs) => onError(`informer ${resource}`, error, retryInMs),
  });
  const identities: IdentityAllocator = createIdentityAllocator({
    kubeConfig: options.kubeConfig,
    onError: (error, retryInMs) => onError('informer ciliumidentities', error, retryInMs),
  });
  const synced = Promise.all([informers.synced, identities.synced]).then(() => undefined);
  synced.catch(() => {});

  const view: ClusterView = {
    listPods: () => informers.informer('pods').list(),
    listNodes: () => informers.informer('nodes').list(),
    listServices: () => informers.informer('services').list(),
    listEndpointSlices: () => informers.informer('endpointSlices').list(),
    listNamespaces: () => informers.informer('namespaces').list(),
  };

  return {
    ...view,
    view,
    informers,
    identities,
    /** Resolves once every informer (identities included) has listed. */
    synced,
    get hasSynced(): boolean {
      return informers.hasSynced && identities.informer.hasSynced;
    },
    /** What has not listed yet, for the agent's status. */
    unsynced: (): string[] => [...informers.unsynced(), ...(identities.informer.hasSynced ? [] : ['ciliumIdentities'])],
    /** This node's Node object, once listed. */
    node: (): V1Node | undefined => informers.informer('nodes').get('', options.nodeName),
    /** This node's pod CIDR (`spec.podCIDR`), once its Node is listed. */
    podCidr: (): string | undefined => informers.informer('nodes').get('', options.nodeName)?.spec?.podCIDR,
    /** Labels of each namespace by name. */
    namespaceLabels: (): Map<string, Record<string, string>> =>
      new Map(view.listNamespaces().flatMap((ns) => (ns.metadata?.name ? [[ns.metadata.name, ns.metadata.labels ?? {}] as const] : []))),
    /** Every change of a cluster object; identities come through the identity view. */
    subscribe: informers.subscribe,
    async close(): Promise<void> {
      await Promise.all([informers.close(), identities.close()]);
    },
  } as const;
}

export type ClusterState = ReturnType<typeof createClusterState>;
