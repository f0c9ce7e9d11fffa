import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { isIPv4 } from 'node:net';
import type { L4Protocol, ServicePortSpec } from './serviceSpec.ts';

/** What a service needs of a pod to use it as a backend. */
export interface PodEndpoint {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string | undefined;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `status.conditions` Ready is True and the pod is not being deleted. */
  readonly ready: boolean;
  readonly containerPorts: readonly { readonly name: string | undefined; readonly port: number; readonly protocol: L4Protocol }[];
}

/** A node's name and the addresses NodePort services answer on (its InternalIPs). */
export interface ServiceNode {
  readonly name: string;
  readonly addresses: readonly string[];
}

/**
 * The pod as a possible backend; `undefined` while it has no IP (not yet
 * wired). A pod IP that is not IPv4 is an error naming the pod.
 */
export function podEndpoint(pod: V1Pod): PodEndpoint | undefined {
  const name = pod.metadata?.name;
  const namespace = pod.metadata?.namespace ?? 'default';
  const ip = pod.status?.podIP;
  if (!name || !ip) return undefined;
  if (!isIPv4(ip)) throw new Error(`Pod ${namespace}/${name}: status.podIP: '${ip}' is not an IPv4 address`);
  const readyCondition = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
  return {
    namespace,
    name,
    nodeName: pod.spec?.nodeName,
    ip,
    labels: pod.metadata?.labels ?? {},
    ready: readyCondition?.status === 'True' && !pod.metadata?.deletionTimestamp,
    containerPorts: (pod.spec?.containers ?? []).flatMap((container) =>
      (container.ports ?? []).map((port) => ({
        name: port.name,
        port: port.containerPort,
        protocol: (port.protocol ?? 'TCP') as L4Protocol,
      })),
    ),
  };
}

/** The node's InternalIP addresses; an address that is not IPv4 is an error naming the node. */
export function serviceNode(node: V1Node): ServiceNode | undefined {
  const name = node.metadata?.name;
  if (!name) return undefined;
  const addresses = (node.status?.addresses ?? []).filter((address) => address.type === 'InternalIP').map((address) => address.address);
  for (const address of addresses) {
    if (!isIPv4(address)) throw new Error(`Node ${name}: status.addresses InternalIP: '${address}' is not an IPv4 address`);
  }
  return { name, addresses };
}

/** Whether a service selector (a label map) selects the labels; an empty or missing selector selects nothing. */
export function selectorMatches(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

/**
 * The port a service port reaches on this pod: a number as is, a name through
 * the pod's container ports of the same protocol (as Kubernetes' endpoints
 * controller does); `undefined` when the pod has no such named port.
 */
export function resolveTargetPort(port: ServicePortSpec, pod: PodEndpoint): number | undefined {
  if (typeof port.targetPort === 'number') return port.targetPort;
  return pod.containerPorts.find((c) => c.name === port.targetPort && c.protocol === port.protocol)?.port;
}
