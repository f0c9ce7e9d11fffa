export { DirectoryKubeStore, type KubeKind, type KubeStore } from './kubeStore.ts';
