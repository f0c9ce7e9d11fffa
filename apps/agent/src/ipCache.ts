import { isIPv4 } from 'node:net';
import type { V1Pod } from '@kubernetes/client-node';
import { ReservedIdentity, reservedIdentityLabels, type ReservedIdentityName, type Workload } from '@tycho/flow';
import type { ClusterView } from './clusterState.ts';
import { securityLabels, type IdentityView } from './securityIdentities.ts';

/** What the agent knows about the owner of an IP address. */
export interface IpCacheEntry {
  identity: number;
  labels: string[];
  /** Endpoint id, for pods on this node. */
  endpointId?: number;
  namespace?: string;
  podName?: string;
  workloads?: Workload[];
  nodeName?: string;
}

/** A pod on this node as the endpoint manager knows it. */
export interface LocalEndpointView {
  id: number;
  identity: number;
  labels: string[];
  namespace: string;
  podName: string;
}

/** Security identity and labels of a pod, resolved from the informers' pods and the cluster's identities. */
export interface PodSecurity {
  identity: number;
  labels: string[];
  workloads: Workload[];
}

export interface IpCacheOptions {
  store: Pick<ClusterView, 'listPods' | 'listNodes'>;
  identities: Pick<IdentityView, 'identityOf'>;
  nodeName: string;
  /** Addresses of this node that are not in its Node object (e.g. from its interfaces). */
  hostIPs?: readonly string[];
  localEndpointByIp?: (ip: string) => LocalEndpointView | undefined;
  /** Least time between two refreshes caused by unknown addresses. */
  missRefreshIntervalMs?: number;
  now?: () => number;
}

/**
 * IP → endpoint metadata, for local and remote pods, this node (reserved
 * identity host), other nodes (remote-node) and everything else (world).
 * Built from the informers' caches; rebuilt after `markStale` (the agent calls
 * it on every change the informers report or an identity becoming known), and
 * on a lookup miss at most once per `missRefreshIntervalMs`. A pod whose
 * identity no agent has allocated yet is left out until it has one.
 */
export class IpCache {
  private entries = new Map<string, IpCacheEntry>();
  private pods = new Map<string, V1Pod>();
  private stale = true;
  private lastRefreshMs = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly missRefreshIntervalMs: number;

  constructor(private readonly options: IpCacheOptions) {
    this.now = options.now ?? Date.now;
    this.missRefreshIntervalMs = options.missRefreshIntervalMs ?? 1000;
  }

  lookup(ip: string): IpCacheEntry {
    const local = this.options.localEndpointByIp?.(ip);
    if (this.stale) this.refresh();
    let entry = this.entries.get(ip);
    if (!entry && !local && this.now() - this.lastRefreshMs >= this.missRefreshIntervalMs) {
      this.refresh();
      entry = this.entries.get(ip);
    }
    if (local) {
      return {
        ...entry,
        identity: local.identity,
        labels: local.labels,
        endpointId: local.id,
        namespace: local.namespace,
        podName: local.podName,
        nodeName: this.options.nodeName,
      };
    }
    return entry ?? reservedEntry('world');
  }

  /**
   * Identity, labels and workload of a pod by name; pods the informers have
   * not seen get their namespace label only. Until its label set has an
   * identity the pod has the reserved `init` identity, as a Cilium endpoint
   * does while its labels are resolved; the agent re-registers it once known.
   */
  podSecurity(namespace: string, podName: string): PodSecurity {
    if (this.stale || !this.pods.has(podKey(namespace, podName))) this.refresh();
    const pod = this.pods.get(podKey(namespace, podName));
    const labels = securityLabels(namespace, pod?.metadata?.labels);
    return { identity: this.options.identities.identityOf(labels) ?? ReservedIdentity.init, labels, workloads: pod ? workloadsOf(pod) : [] };
  }

  /** Whether the informers have this pod. */
  knowsPod(namespace: string, podName: string): boolean {
    if (this.stale || !this.pods.has(podKey(namespace, podName))) this.refresh();
    return this.pods.has(podKey(namespace, podName));
  }

  /** Rebuild at the next read: the pods, nodes or identities changed. */
  markStale(): void {
    this.stale = true;
  }

  /**
   * Every IPv4 address of the store's pods and nodes and of this node, with
   * its identity (what the datapath's ipcache map holds); `local` = on this
   * node. Rebuilt first when the store changed.
   */
  addresses(): { address: string; identity: number; local: boolean }[] {
    if (this.stale) this.refresh();
    return [...this.entries]
      .filter(([ip]) => isIPv4(ip))
      .map(([address, entry]) => ({ address, identity: entry.identity, local: entry.nodeName === this.options.nodeName }));
  }

  refresh(): void {
    const entries = new Map<string, IpCacheEntry>();
    const pods = new Map<string, V1Pod>();
    for (const pod of this.options.store.listPods()) {
      const namespace = pod.metadata?.namespace ?? 'default';
      const name = pod.metadata?.name;
      if (!name) continue;
      pods.set(podKey(namespace, name), pod);
      const ip = pod.status?.podIP;
      if (!ip || pod.spec?.hostNetwork) continue;
      const labels = securityLabels(namespace, pod.metadata?.labels);
      const identity = this.options.identities.identityOf(labels);
      if (identity === undefined) continue;
      const workloads = workloadsOf(pod);
      entries.set(ip, {
        identity,
        labels,
        namespace,
        podName: name,
        ...(workloads.length > 0 ? { workloads } : {}),
        ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      });
    }
    for (const node of this.options.store.listNodes()) {
      const nodeName = node.metadata?.name;
      const reserved = nodeName === this.options.nodeName ? 'host' : 'remote-node';
      for (const address of node.status?.addresses ?? []) {
        if (address.type === 'InternalIP' || address.type === 'ExternalIP') {
          entries.set(address.address, { ...reservedEntry(reserved), ...(nodeName ? { nodeName } : {}) });
        }
      }
    }
    for (const ip of this.options.hostIPs ?? []) {
      entries.set(ip, { ...reservedEntry('host'), nodeName: this.options.nodeName });
    }
    this.entries = entries;
    this.pods = pods;
    this.stale = false;
    this.lastRefreshMs = this.now();
  }
}

function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function reservedEntry(name: ReservedIdentityName): IpCacheEntry {
  return { identity: ReservedIdentity[name], labels: reservedIdentityLabels(name) };
}

/**
 * The workload that owns a pod. A ReplicaSet named `<deployment>-<hash>`
 * belongs to a Deployment, which is what people know the pod by.
 */
export function workloadsOf(pod: V1Pod): Workload[] {
  const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller !== false) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return [];
  if (owner.kind === 'ReplicaSet') {
    const deployment = /^(.+)-[a-z0-9]+$/.exec(owner.name)?.[1];
    if (deployment) return [{ name: deployment, kind: 'Deployment' }];
  }
  return [{ name: owner.name, kind: owner.kind }];
}
