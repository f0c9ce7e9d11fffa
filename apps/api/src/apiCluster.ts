// What the API reads of the cluster, only through informers over the Kubernetes API: pods and
// namespaces (the namespace list, policy selection) and the policies (GET /api/v1/policies).
import type { KubeConfig, V1Namespace, V1Pod } from '@kubernetes/client-node';
import { createClusterInformers, createClusterPolicyReader, type ClusterPolicies, type ClusterResource } from '@tycho/kube';

export interface ApiCluster {
  /** Whether every informer has listed once (before that the lists are partial). */
  readonly hasSynced: boolean;
  listPods(): V1Pod[];
  listNamespaces(): V1Namespace[];
  policies(): ClusterPolicies;
}

const API_RESOURCES: readonly ClusterResource[] = ['pods', 'namespaces', 'networkPolicies', 'ciliumNetworkPolicies', 'ciliumClusterwideNetworkPolicies'];

export function createApiCluster(options: { kubeConfig: KubeConfig; log?: (line: string) => void }) {
  const informers = createClusterInformers({
    kubeConfig: options.kubeConfig,
    resources: API_RESOURCES,
    onError: (resource, error, retryInMs) => options.log?.(`informer ${resource}: ${error.message}; retrying in ${retryInMs} ms`),
  });
  const policies = createClusterPolicyReader(informers);
  const cluster: ApiCluster & { synced: Promise<void>; close(): Promise<void> } = {
    get hasSynced() {
      return informers.hasSynced;
    },
    synced: informers.synced,
    listPods: () => informers.informer('pods').list(),
    listNamespaces: () => informers.informer('namespaces').list(),
    policies: policies.read,
    async close() {
      policies.close();
      await informers.close();
    },
  };
  return cluster;
}
