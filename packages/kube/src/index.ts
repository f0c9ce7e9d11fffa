export { apiRequest, isGone, KubeApiError, type ApiRequest } from './apiRequest.ts';
export { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.ts';
export {
  allClusterResources,
  clusterResourcePaths,
  collectionPath,
  createClusterInformers,
  type CiliumPolicyObject,
  type ClusterEvent,
  type ClusterInformers,
  type ClusterInformersOptions,
  type ClusterObjects,
  type ClusterResource,
} from './clusterInformers.ts';
export {
  createIdentityAllocator,
  IdentityAllocationError,
  MAX_CLUSTER_IDENTITY,
  MIN_CLUSTER_IDENTITY,
  SECURITY_LABELS_DIGEST_LABEL,
  type CiliumIdentityObject,
  type IdentityAllocator,
  type IdentityAllocatorOptions,
  type IdentityRecord,
} from './identityAllocator.ts';
export { createInformer, type Informer, type InformerEvent, type InformerListener, type InformerOptions } from './informer.ts';
export {
  KubeConfigError,
  kubeConfigForServer,
  loadKubeConfig,
  SERVICE_ACCOUNT_DIR,
  type KubeConfigOrigin,
  type KubeConfigSources,
  type LoadedKubeConfig,
} from './kubeConfig.ts';
export { createClusterPolicyReader, type ClusterPolicies } from './clusterPolicies.ts';
