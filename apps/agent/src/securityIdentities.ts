import type { IdentityAllocator } from '@tycho/kube';

/** Label keys Cilium leaves out of identities: they change on every rollout without changing who a pod is. */
const IGNORED_LABEL_KEYS = new Set(['pod-template-hash', 'controller-revision-hash', 'pod-template-generation']);

/**
 * A pod's security labels: its labels as `k8s:key=value` plus its namespace
 * as `k8s:io.kubernetes.pod.namespace=<ns>`, sorted.
 */
export function securityLabels(namespace: string, podLabels: Record<string, string> | undefined): string[] {
  const labels = Object.entries(podLabels ?? {})
    .filter(([key]) => !IGNORED_LABEL_KEYS.has(key))
    .map(([key, value]) => `k8s:${key}=${value}`);
  labels.push(`k8s:io.kubernetes.pod.namespace=${namespace}`);
  return [...new Set(labels)].sort();
}

export interface IdentityRecord {
  identity: number;
  labels: string[];
}

/** What the agent's reconcilers read of the identities: synchronous answers from a cache. */
export interface IdentityView {
  /** The identity of a label set if any agent has allocated it; else undefined, and its allocation is started (onChange fires when it is known). */
  identityOf(labels: readonly string[]): number | undefined;
  labelsOf(identity: number): string[] | undefined;
  /** Every identity of the cluster, by number. */
  list(): IdentityRecord[];
}

function keyOf(labels: readonly string[]): string {
  return [...new Set(labels)].sort().join('\n');
}

/**
 * The synchronous face of the cluster's identity allocator (CiliumIdentity
 * objects through the API, agreed on by every agent): label sets another
 * agent allocated come from its informer's cache, label sets nobody has yet
 * are allocated in the background, and `onChange` tells the agent's
 * reconciler that an answer changed (an endpoint waiting on the reserved
 * `init` identity gets its own then, as in Cilium).
 */
export function createIdentityView(
  allocator: Pick<IdentityAllocator, 'identityFor' | 'labelsOf' | 'list' | 'informer'>,
  options: { onChange: () => void; log?: (message: string) => void },
): IdentityView & { close(): void } {
  let byKey = new Map<string, number>();
  /** Allocations this agent made, kept across rebuilds of the index from the cache. */
  const allocated = new Map<string, number>();
  const pending = new Set<string>();
  let stale = true;

  const unsubscribe = allocator.informer.subscribe(() => {
    stale = true;
    options.onChange();
  });

  function index(): Map<string, number> {
    if (!stale) return byKey;
    const next = new Map<string, number>();
    for (const record of allocator.list()) if (!next.has(keyOf(record.labels))) next.set(keyOf(record.labels), record.identity);
    for (const [key, identity] of allocated) next.set(key, identity);
    byKey = next;
    stale = false;
    return byKey;
  }

  return {
    identityOf(labels) {
      const key = keyOf(labels);
      const known = index().get(key);
      if (known !== undefined || pending.has(key)) return known;
      pending.add(key);
      allocator
        .identityFor(labels)
        .then((identity) => {
          allocated.set(key, identity);
          stale = true;
          options.onChange();
        })
        .catch((error: unknown) => options.log?.(`identities: cannot allocate one for ${labels.join(',')}: ${(error as Error).message}`))
        .finally(() => pending.delete(key));
      return undefined;
    },
    labelsOf: (identity) => allocator.labelsOf(identity),
    list: () => allocator.list(),
    close: unsubscribe,
  };
}
