import { reservedIdentityName, type Endpoint } from '@tycho/flow';
import type { CardKind } from './model.ts';

/** Which card an endpoint belongs to, and how that card is named. */
export interface CardIdentity {
  id: string;
  kind: CardKind;
  namespace?: string;
  title: string;
  subtitle?: string;
  workload?: { name: string; kind: string };
  app?: string;
  dnsName?: string;
}

/**
 * Label keys that name an application, in the order Hubble UI looks at them:
 * `app`, then the `k8s-app` of cluster add-ons (kube-dns), then the
 * recommended `app.kubernetes.io/name`.
 */
const APP_LABEL_KEYS = ['app', 'k8s-app', 'app.kubernetes.io/name'] as const;

/** `k8s:app=echo` → `{key: 'app', value: 'echo'}`; the source prefix (`k8s:`, `any:`) is dropped. */
export function parseLabel(label: string): { source: string; key: string; value: string } {
  const colon = label.indexOf(':');
  const equals = label.indexOf('=');
  const hasSource = colon >= 0 && (equals < 0 || colon < equals);
  const source = hasSource ? label.slice(0, colon) : '';
  const rest = hasSource ? label.slice(colon + 1) : label;
  const eq = rest.indexOf('=');
  return eq < 0 ? { source, key: rest, value: '' } : { source, key: rest.slice(0, eq), value: rest.slice(eq + 1) };
}

export function labelValue(labels: readonly string[] | undefined, key: string): string | undefined {
  for (const label of labels ?? []) {
    const parsed = parseLabel(label);
    if (parsed.key === key && parsed.source !== 'reserved') return parsed.value;
  }
  return undefined;
}

export function appLabel(labels: readonly string[] | undefined): string | undefined {
  for (const key of APP_LABEL_KEYS) {
    const value = labelValue(labels, key);
    if (value) return value;
  }
  return undefined;
}

/**
 * A pod's name without the suffixes its controllers add: the ReplicaSet's
 * pod-template hash and the pod's own random suffix (`echo-a-6d9c7f8b5-xk2lp` → `echo-a`).
 * Both are drawn from Kubernetes' vowel-free alphabet, which keeps words like `exporter` intact.
 */
export function shortPodName(podName: string): string {
  const replicaSetPod = /^(.+)-[bcdfghjklmnpqrstvwxz2-9]{6,10}-[bcdfghjklmnpqrstvwxz2-9]{5}$/.exec(podName);
  if (replicaSetPod?.[1]) return replicaSetPod[1];
  const ownedPod = /^(.+)-[bcdfghjklmnpqrstvwxz2-9]{5}$/.exec(podName);
  return ownedPod?.[1] ?? podName;
}

function reservedNameOf(endpoint: Endpoint | undefined): string | undefined {
  const byNumber = endpoint?.identity ? reservedIdentityName(endpoint.identity) : undefined;
  if (byNumber) return byNumber;
  for (const label of endpoint?.labels ?? []) {
    const parsed = parseLabel(label);
    if (parsed.source === 'reserved') return parsed.key;
  }
  return undefined;
}

function isKubeDns(endpoint: Endpoint): boolean {
  return endpoint.namespace === 'kube-system' && labelValue(endpoint.labels, 'k8s-app') === 'kube-dns';
}

/**
 * The card of one side of a flow. Workloads group by namespace and workload
 * (or app label, or short pod name); world splits by the first DNS name the
 * flow knows for that side; host and remote-node are one card each.
 * Card ids of workloads are `<namespace>/<name>`; the others contain no `/`.
 */
export function cardIdentityOf(endpoint: Endpoint | undefined, dnsNames: readonly string[] | undefined): CardIdentity {
  const reserved = reservedNameOf(endpoint);
  if (reserved === 'world') {
    const dnsName = dnsNames?.find((name) => name.length > 0)?.replace(/\.$/, '');
    return dnsName
      ? { id: `world:${dnsName}`, kind: 'world', title: dnsName, subtitle: 'world', dnsName }
      : { id: 'world', kind: 'world', title: 'world' };
  }
  if (reserved === 'host') return { id: 'host', kind: 'host', title: 'host' };
  if (reserved === 'remote-node') return { id: 'remote-node', kind: 'remote-node', title: 'remote-node' };
  if (reserved) return { id: `reserved:${reserved}`, kind: 'unknown', title: reserved };
  if (!endpoint?.namespace) return { id: 'unknown', kind: 'unknown', title: 'unknown' };

  const namespace = endpoint.namespace;
  const workload = endpoint.workloads?.[0];
  const app = appLabel(endpoint.labels);
  const name = workload?.name ?? app ?? (endpoint.pod_name ? shortPodName(endpoint.pod_name) : `identity-${endpoint.identity ?? 0}`);
  const title = app ?? name;
  return {
    id: `${namespace}/${name}`,
    kind: isKubeDns(endpoint) ? 'kube-dns' : 'workload',
    namespace,
    title,
    ...(workload && workload.name !== title ? { subtitle: `${workload.kind} ${workload.name}` } : {}),
    ...(workload ? { workload: { name: workload.name, kind: workload.kind } } : {}),
    ...(app ? { app } : {}),
  };
}
