import type { V1PodAffinityTerm, V1PodSpec } from '@kubernetes/client-node';
import { matchesSelector } from './labelSelector.ts';

/** A pod waiting for a node, as the scheduler sees it. */
export interface PodToPlace {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: Pick<V1PodSpec, 'nodeName' | 'affinity'>;
  /** The workload the pod belongs to (`Deployment/default/echo-a`), to spread its replicas. */
  readonly owner: string;
}

export interface PendingPod {
  readonly pod: PodToPlace;
  readonly reason: string;
}

export interface Placement {
  /** `<namespace>/<name>` → node name. */
  readonly nodeOf: ReadonlyMap<string, string>;
  /** Pods no node can take, with the reason (they stay Pending, like in Kubernetes). */
  readonly pending: readonly PendingPod[];
}

export function podKey(pod: { namespace: string; name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}

interface PlacedPod {
  readonly pod: PodToPlace;
  readonly node: string;
}

function requiredTerms(pod: PodToPlace, kind: 'podAffinity' | 'podAntiAffinity'): V1PodAffinityTerm[] {
  return pod.spec.affinity?.[kind]?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
}

/** Whether `candidate` is a pod the term (written in `owner`'s spec) refers to. */
function termSelects(term: V1PodAffinityTerm, owner: PodToPlace, candidate: PodToPlace): boolean {
  const namespaces = term.namespaces?.length ? term.namespaces : [owner.namespace];
  return namespaces.includes(candidate.namespace) && matchesSelector(term.labelSelector, candidate.labels);
}

/** Why `node` cannot take `pod`, or undefined when it can. */
function unfitReason(pod: PodToPlace, node: string, placed: readonly PlacedPod[]): string | undefined {
  if (pod.spec.nodeName && pod.spec.nodeName !== node) return `spec.nodeName is ${pod.spec.nodeName}`;
  const onNode = placed.filter((p) => p.node === node);
  for (const term of requiredTerms(pod, 'podAffinity')) {
    const anyMatch = placed.some((p) => termSelects(term, pod, p.pod));
    // Kubernetes lets the first pod of a group that selects itself go anywhere.
    if (!anyMatch && termSelects(term, pod, pod)) continue;
    if (!onNode.some((p) => termSelects(term, pod, p.pod))) return 'podAffinity: no matching pod on this node';
  }
  for (const term of requiredTerms(pod, 'podAntiAffinity')) {
    if (onNode.some((p) => termSelects(term, pod, p.pod))) return 'podAntiAffinity: a matching pod runs on this node';
  }
  for (const other of onNode) {
    for (const term of requiredTerms(other.pod, 'podAntiAffinity')) {
      if (termSelects(term, other.pod, pod)) return `podAntiAffinity of ${podKey(other.pod)} excludes this pod`;
    }
  }
  return undefined;
}

/** Whether `pod` should be placed after others: some (anti)affinity term of it refers to a pod not placed yet. */
function waitsForOthers(pod: PodToPlace, unplaced: readonly PodToPlace[]): boolean {
  if (pod.spec.nodeName) return false; // bound to its node: nothing to decide later
  const terms = [...requiredTerms(pod, 'podAffinity'), ...requiredTerms(pod, 'podAntiAffinity')];
  return terms.some((term) => unplaced.some((other) => other !== pod && termSelects(term, pod, other)));
}

/**
 * Assigns pods to nodes the way the Kubernetes scheduler would for the
 * constraints the lab supports: `spec.nodeName`, and required podAffinity /
 * podAntiAffinity with topologyKey kubernetes.io/hostname (in both
 * directions). Pods whose terms refer to pods not placed yet are placed after
 * them, so a client with affinity to `echo-b` follows echo-b wherever it
 * lands. Among the nodes that fit, it spreads: fewest replicas of the same
 * workload, then fewest pods, then node order.
 */
export function placePods(pods: readonly PodToPlace[], nodes: readonly string[]): Placement {
  const placed: PlacedPod[] = [];
  const pending: PendingPod[] = [];
  let unplaced = [...pods];
  let ignoreWaiting = false;

  while (unplaced.length > 0) {
    let progress = false;
    for (const pod of [...unplaced]) {
      if (!ignoreWaiting && waitsForOthers(pod, unplaced)) continue;
      const fitting = nodes.filter((node) => unfitReason(pod, node, placed) === undefined);
      unplaced = unplaced.filter((p) => p !== pod);
      progress = true;
      ignoreWaiting = false;
      if (fitting.length === 0) {
        const reasons = nodes.map((node) => `${node}: ${unfitReason(pod, node, placed)}`).join('; ');
        pending.push({ pod, reason: nodes.length ? reasons : 'no nodes' });
        continue;
      }
      const load = (node: string) => [
        placed.filter((p) => p.node === node && p.pod.owner === pod.owner).length,
        placed.filter((p) => p.node === node).length,
      ];
      const best = fitting.reduce((a, b) => {
        const [aOwn = 0, aAll = 0] = load(a);
        const [bOwn = 0, bAll = 0] = load(b);
        return bOwn < aOwn || (bOwn === aOwn && bAll < aAll) ? b : a;
      });
      placed.push({ pod, node: best });
    }
    // Pods that wait on each other in a cycle: place the first of them anyway.
    if (!progress) ignoreWaiting = true;
  }

  return { nodeOf: new Map(placed.map((p) => [podKey(p.pod), p.node])), pending };
}
