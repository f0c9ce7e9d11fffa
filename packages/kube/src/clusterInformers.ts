// The cluster state Tycho's agent and API read, as one set of informers: the kinds Cilium's
// agent watches, each listed and watched on its own, with one readiness and one change stream.
import type {
  KubeConfig,
  KubernetesObject,
  V1EndpointSlice,
  V1Namespace,
  V1NetworkPolicy,
  V1Node,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';

import type { BackoffOptions } from './backoff.ts';
import { createInformer, type Informer, type InformerEvent } from './informer.ts';

/** A CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy as stored: `spec` or `specs`, parsed by @tycho/policy. */
export interface CiliumPolicyObject extends KubernetesObject {
  spec?: Record<string, unknown>;
  specs?: Record<string, unknown>[];
}

export interface ClusterObjects {
  pods: V1Pod;
  nodes: V1Node;
  namespaces: V1Namespace;
  services: V1Service;
  endpointSlices: V1EndpointSlice;
  networkPolicies: V1NetworkPolicy;
  ciliumNetworkPolicies: CiliumPolicyObject;
  ciliumClusterwideNetworkPolicies: CiliumPolicyObject;
}

export type ClusterResource = keyof ClusterObjects;

interface ResourcePath {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  prefix: string;
  plural: string;
  namespaced: boolean;
}

/** Where each kind is served; the Cilium kinds are custom resources (cilium.io/v2), there once their CRDs are. */
export const clusterResourcePaths: Readonly<Record<ClusterResource, ResourcePath>> = {
  pods: { prefix: '/api/v1', plural: 'pods', namespaced: true },
  nodes: { prefix: '/api/v1', plural: 'nodes', namespaced: false },
  namespaces: { prefix: '/api/v1', plural: 'namespaces', namespaced: false },
  services: { prefix: '/api/v1', plural: 'services', namespaced: true },
  endpointSlices: { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  networkPolicies: { prefix: '/apis/networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true },
  ciliumNetworkPolicies: { prefix: '/apis/cilium.io/v2', plural: 'ciliumnetworkpolicies', namespaced: true },
  ciliumClusterwideNetworkPolicies: { prefix: '/apis/cilium.io/v2', plural: 'ciliumclusterwidenetworkpolicies', namespaced: false },
};

export const allClusterResources = Object.keys(clusterResourcePaths) as ClusterResource[];

/** One change, named by the informer it came from so a handler can narrow the object's type. */
export type ClusterEvent = { [R in ClusterResource]: { resource: R } & InformerEvent<ClusterObjects[R]> }[ClusterResource];

export interface ClusterInformersOptions {
  kubeConfig: KubeConfig;
  /** Only this node's pods (field selector `spec.nodeName=<node>`), as an agent reads them; all pods when absent. */
  nodeName?: string;
  /** Namespaced kinds from this namespace only; all namespaces when absent. */
  namespace?: string;
  /** The kinds to inform about; all of them by default. */
  resources?: readonly ClusterResource[];
  resyncIntervalMs?: number;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  onError?: (resource: ClusterResource, error: Error, retryInMs: number) => void;
}

/** The collection path of a kind: cluster-wide, or in one namespace. */
export function collectionPath(resource: ClusterResource, namespace?: string): string {
  const path = clusterResourcePaths[resource];
  return path.namespaced && namespace !== undefined ? `${path.prefix}/namespaces/${encodeURIComponent(namespace)}/${path.plural}` : `${path.prefix}/${path.plural}`;
}

export function createClusterInformers(options: ClusterInformersOptions) {
  const resources = [...new Set(options.resources ?? allClusterResources)];
  const informers: Partial<{ [R in ClusterResource]: Informer<ClusterObjects[R]> }> = {};
  const listeners = new Set<(event: ClusterEvent) => void>();

  function start<R extends ClusterResource>(resource: R): Informer<ClusterObjects[R]> {
    const informer = createInformer<ClusterObjects[R]>({
      kubeConfig: options.kubeConfig,
      path: collectionPath(resource, options.namespace),
      name: resource,
      ...(resource === 'pods' && options.nodeName !== undefined ? { fieldSelector: `spec.nodeName=${options.nodeName}` } : {}),
      ...(options.resyncIntervalMs !== undefined ? { resyncIntervalMs: options.resyncIntervalMs } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.onError ? { onError: (error: Error, retryInMs: number) => options.onError?.(resource, error, retryInMs) } : {}),
    });
    informer.subscribe((event) => {
      const tagged = { resource, ...event } as ClusterEvent;
      for (const listener of [...listeners]) listener(tagged);
    });
    return informer;
  }

  for (const resource of resources) (informers as Record<ClusterResource, unknown>)[resource] = start(resource);
  const all = Object.values(informers) as Informer<KubernetesObject>[];

  function informer<R extends ClusterResource>(resource: R): Informer<ClusterObjects[R]> {
    const found = informers[resource];
    if (!found) throw new Error(`cluster informers: ${resource} is not informed about (resources: ${resources.join(', ')})`);
    return found as Informer<ClusterObjects[R]>;
  }

  const synced = Promise.all(all.map((each) => each.synced)).then(() => undefined);
  synced.catch(() => {});

  return {
    resources,
    /** The informer of one kind, with its cache. */
    informer,
    /** Resolves once every informer has listed; rejects if closed before. */
    synced,
    get hasSynced(): boolean {
      return all.every((each) => each.hasSynced);
    },
    /** The kinds that have not listed yet, for a readiness report. */
    unsynced: (): ClusterResource[] => resources.filter((resource) => !informer(resource).hasSynced),
    /** Every informer's changes; each kind's in the server's order. Returns the unsubscribe function. */
    subscribe(listener: (event: ClusterEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close(): Promise<void> {
      await Promise.all(all.map((each) => each.close()));
    },
  } as const;
}

export type ClusterInformers = ReturnType<typeof createClusterInformers>;
