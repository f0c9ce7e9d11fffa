import type { Flow } from '@tycho/flow';
import type { ApiCluster } from './apiCluster.ts';

/**
 * The namespaces a user can pick: every namespace a flow has named since the
 * API started, and the cluster's Namespaces and those of its pods (through the
 * informers, when the API has a Kubernetes API to read).
 */
export class NamespaceCatalog {
  private readonly seen = new Set<string>();

  constructor(private readonly kube?: Pick<ApiCluster, 'listPods' | 'listNamespaces'>) {}

  add(flow: Flow): void {
    const source = flow.source?.namespace;
    const destination = flow.destination?.namespace;
    if (source) this.seen.add(source);
    if (destination) this.seen.add(destination);
  }

  list(): string[] {
    const all = new Set(this.seen);
    for (const namespace of this.kube?.listNamespaces() ?? []) {
      if (namespace.metadata?.name) all.add(namespace.metadata.name);
    }
    for (const pod of this.kube?.listPods() ?? []) {
      if (pod.metadata?.namespace) all.add(pod.metadata.namespace);
    }
    return [...all].sort();
  }
}
