/**
 * Cilium labels as identities carry them: `source:key=value`
 * (`k8s:app=echo-a`, `reserved:world`, `cidr:10.0.0.0/8`). A selector key
 * names a source (`k8s:app`) or matches every source (`app`, `any:app`).
 */

export interface Label {
  readonly source: string;
  readonly key: string;
  readonly value: string;
}

/** The source a selector key without a prefix gets: it matches labels of every source. */
export const ANY_SOURCE = 'any';

/** The label key holding a pod's namespace (`k8s:io.kubernetes.pod.namespace=default`). */
export const POD_NAMESPACE_KEY = 'io.kubernetes.pod.namespace';

/** Prefix of the keys that carry the labels of a pod's namespace on its identity. */
export const NAMESPACE_LABELS_PREFIX = 'io.cilium.k8s.namespace.labels.';

/** The label Kubernetes puts on every namespace: its name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Splits `source:key=value`; a label without a source is `unspec`, as Cilium parses it. */
export function parseLabel(text: string): Label {
  const eq = text.indexOf('=');
  const head = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? '' : text.slice(eq + 1);
  const colon = head.indexOf(':');
  if (colon < 0) return { source: 'unspec', key: head, value };
  return { source: head.slice(0, colon), key: head.slice(colon + 1), value };
}

/** Splits a selector key `k8s:app` into source and key; `app` alone means any source. */
export function parseSelectorKey(text: string): { source: string; key: string } {
  const colon = text.indexOf(':');
  if (colon < 0) return { source: ANY_SOURCE, key: text };
  return { source: text.slice(0, colon), key: text.slice(colon + 1) };
}

/**
 * The labels a pod's namespace adds to its identity, so that a Kubernetes
 * NetworkPolicy's namespaceSelector can select it:
 * `k8s:io.cilium.k8s.namespace.labels.<key>=<value>`, including the
 * `kubernetes.io/metadata.name` label Kubernetes gives every namespace.
 */
export function namespaceIdentityLabels(namespace: string, namespaceLabels: Readonly<Record<string, string>> = {}): string[] {
  const all = { ...namespaceLabels, [NAMESPACE_NAME_LABEL]: namespace };
  return Object.entries(all)
    .map(([key, value]) => `k8s:${NAMESPACE_LABELS_PREFIX}${key}=${value}`)
    .sort();
}
