import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAllYaml, type V1Deployment, type V1EndpointSlice, type V1Node, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { endpointSlicesFromPods } from './endpointSlices.ts';

/** Small Kubernetes objects for the service tests, shaped as the lab writes them (docs/contracts.md). */

const MANIFEST_DIR = fileURLToPath(new URL('../../lab/manifests/', import.meta.url));

/** Services and Deployments of one of the lab's manifest files (`connectivity-check.yaml`, `kube-dns.yaml`), namespaced as the lab does. */
export function labManifest(file: string): { services: V1Service[]; deployments: V1Deployment[] } {
  const objects = loadAllYaml(readFileSync(`${MANIFEST_DIR}${file}`, 'utf8')) as { kind?: string; metadata?: { namespace?: string } }[];
  for (const object of objects) if (object.metadata && object.kind !== 'Namespace') object.metadata.namespace ??= 'default';
  return {
    services: objects.filter((o) => o.kind === 'Service') as V1Service[],
    deployments: objects.filter((o) => o.kind === 'Deployment') as V1Deployment[],
  };
}

export const NODE_IPS = { 'tycho-node-1': '172.18.0.2', 'tycho-node-2': '172.18.0.3' } as const;
export type LabNodeName = keyof typeof NODE_IPS;

export const labNodes: V1Node[] = Object.entries(NODE_IPS).map(([name, ip]) => ({
  metadata: { name },
  status: { addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] },
}));

export interface PodOptions {
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  readonly node: LabNodeName;
  readonly ip: string;
  readonly ready?: boolean;
  readonly ports?: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' }[];
}

/** A Pod object as the lab's podObject writes it. */
export function labPod(name: string, options: PodOptions): V1Pod {
  const ready = options.ready ?? true;
  return {
    metadata: { name, namespace: options.namespace ?? 'default', labels: options.labels },
    spec: {
      nodeName: options.node,
      containers: [{ name: 'main', image: 'tycho/echo', ports: options.ports ?? [] }],
    },
    status: {
      phase: 'Running',
      hostIP: NODE_IPS[options.node],
      podIP: options.ip,
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: ready ? 'True' : 'False' },
        { type: 'ContainersReady', status: ready ? 'True' : 'False' },
      ],
    },
  };
}

/** The pods of the seed's services: echo-a on node 1, echo-b on node 2, two coredns (one per node). */
export function seedPods(): V1Pod[] {
  return [
    labPod('echo-a-6d9c7f8b5-x2k9p', { labels: { name: 'echo-a' }, node: 'tycho-node-1', ip: '10.244.0.12', ports: [{ containerPort: 8080 }] }),
    labPod('echo-b-5f7c9d6b4-q8w2e', { labels: { name: 'echo-b' }, node: 'tycho-node-2', ip: '10.244.1.12', ports: [{ containerPort: 8080 }] }),
    labPod('coredns-7d8f9c6b5-a1b2c', {
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns' },
      node: 'tycho-node-1',
      ip: '10.244.0.98',
      ports: [
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
        { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
      ],
    }),
    labPod('coredns-7d8f9c6b5-d3e4f', {
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns' },
      node: 'tycho-node-2',
      ip: '10.244.1.65',
      ports: [
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
        { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
      ],
    }),
  ];
}

/** The seed's services: connectivity-check.yaml and kube-dns.yaml as in the repo. */
export function seedServices(): V1Service[] {
  return [...labManifest('connectivity-check.yaml').services, ...labManifest('kube-dns.yaml').services];
}

export function svc(name: string, spec: V1Service['spec'], namespace = 'default'): V1Service {
  return { metadata: { name, namespace }, spec };
}

/** A model input from services and pods, with the EndpointSlices Kubernetes' controller would write for them. */
export function withSlices(input: { services: V1Service[]; pods: V1Pod[]; nodes: V1Node[] }): { services: V1Service[]; endpointSlices: V1EndpointSlice[]; nodes: V1Node[] } {
  return { services: input.services, endpointSlices: endpointSlicesFromPods(input.services, input.pods), nodes: input.nodes };
}
