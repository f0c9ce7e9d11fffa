import { createHash } from 'node:crypto';
import type { V1Namespace, V1Node, V1OwnerReference, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import type { LabNode } from './nodes.ts';

/** A pod the lab runs, as far as the Kubernetes API needs to know it. */
export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** ReplicaSet (for Deployment pods), DaemonSet, or none for bare pods. */
  readonly ownerRef: { kind: 'ReplicaSet' | 'DaemonSet'; name: string } | undefined;
  readonly spec: V1PodSpec;
  readonly nodeName: string | undefined;
  readonly hostIP: string | undefined;
  readonly podIP: string | undefined;
  readonly phase: 'Pending' | 'Running';
  readonly ready: boolean;
  /** The containers as the kubelet reports them (`kubectl get pods` counts READY from these). */
  readonly containers: readonly { name: string; image: string; running: boolean; ready: boolean; restarts: number }[];
  readonly createdAt: Date;
  readonly readySince: Date | undefined;
}

function ownerReference(namespace: string, owner: NonNullable<PodRecord['ownerRef']>): V1OwnerReference {
  // No API server hands out uids; derive a stable one from the owner's identity.
  const hex = createHash('sha256').update(`${owner.kind}/${namespace}/${owner.name}`).digest('hex');
  const uid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return { apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid, controller: true };
}

/**
 * The Pod the lab writes into its Kubernetes API (spec as scheduled, status as
 * the kubelet would report it); the API server gives it its uid and
 * creationTimestamp.
 */
export function podObject(pod: PodRecord): V1Pod {
  const condition = (type: string, status: boolean, since: Date | undefined) => ({
    type,
    status: status ? 'True' : 'False',
    lastTransitionTime: since ?? pod.createdAt,
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      labels: { ...pod.labels },
      ...(pod.ownerRef ? { ownerReferences: [ownerReference(pod.namespace, pod.ownerRef)] } : {}),
    },
    spec: { ...pod.spec, ...(pod.nodeName ? { nodeName: pod.nodeName } : {}) },
    status: {
      phase: pod.phase,
      ...(pod.hostIP ? { hostIP: pod.hostIP, hostIPs: [{ ip: pod.hostIP }] } : {}),
      ...(pod.podIP ? { podIP: pod.podIP, podIPs: [{ ip: pod.podIP }] } : {}),
      conditions: [
        condition('PodScheduled', pod.nodeName !== undefined, pod.createdAt),
        condition('Ready', pod.ready, pod.readySince),
        condition('ContainersReady', pod.ready, pod.readySince),
      ],
      containerStatuses: pod.containers.map((container) => ({
        name: container.name,
        image: container.image,
        imageID: '',
        ready: container.ready,
        started: container.running,
        restartCount: container.restarts,
        state: container.running ? { running: { startedAt: pod.createdAt } } : { waiting: { reason: 'ContainerCreating' } },
      })),
    },
  };
}

/** A Namespace as `kubectl create namespace` makes it. */
export function namespaceObject(name: string): V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** The Node object for a lab node, Ready since `createdAt` (its kubelet is the lab). */
export function nodeObject(node: LabNode, createdAt: Date): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: { 'kubernetes.io/hostname': node.name, 'kubernetes.io/os': 'linux' },
    },
    spec: { podCIDR: node.podCidr, podCIDRs: [node.podCidr] },
    status: {
      addresses: [
        { type: 'InternalIP', address: node.ip },
        { type: 'Hostname', address: node.name },
      ],
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: createdAt }],
    },
  };
}
