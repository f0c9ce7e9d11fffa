export { DirectoryKubeStore, type KubeKind, type KubeStore } from './kubeStore.ts';
export { type PolicyApplyResult, type PolicyBatch, PolicyCollection, type StoredPolicies } from './policyCollection.ts';
export { watchKubeStore } from './watchStore.ts';
