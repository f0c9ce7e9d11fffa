import type { KubeStore } from '@tycho/kube';
import type { Flow } from '@tycho/flow';

/**
 * The namespaces a user can pick: every namespace a flow has named since the
 * API started, and those of the pods in the cluster (when a KubeStore is given).
 */
export class NamespaceCatalog {
  private readonly seen = new Set<string>();

  constructor(private readonly kube?: KubeStore) {}

  add(flow: Flow): void {
    const source = flow.source?.namespace;
    const destination = flow.destination?.namespace;
    if (source) this.seen.add(source);
    if (destination) this.seen.add(destination);
  }

  list(): string[] {
    const all = new Set(this.seen);
    for (const pod of this.kube?.listPods() ?? []) {
      if (pod.metadata?.namespace) all.add(pod.metadata.namespace);
    }
    return [...all].sort();
  }
}
