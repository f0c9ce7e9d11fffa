import { networkInterfaces } from 'node:os';
import { EventType, TraceReason, type FlowEvent, type NodeDatapath } from '@tycho/datapath';
import { ReservedIdentity } from '@tycho/flow';
import type { FlowMetrics } from '@tycho/metrics';
import { createApiServer } from './apiServer.ts';
import { EndpointManager } from './endpointManager.ts';
import { createFlowEnricher, type EnrichedFlow } from './flowEnricher.ts';
import { FqdnCache } from './fqdnCache.ts';
import { createClusterPolicyReader } from '@tycho/kube';
import type { ClusterState } from './clusterState.ts';
import { createInterfaceNameLookup } from './interfaceNames.ts';
import { IpCache } from './ipCache.ts';
import { createL7Tracker } from './l7Tracker.ts';
import { startMetricsServer, type ListenAddress } from './metricsServer.ts';
import { Observer } from './observer.ts';
import { namePoliciesOnFlow } from './flowPolicies.ts';
import { createRecordingPolicyDatapath, type PolicyDatapath } from './policyDatapath.ts';
import { PolicyResolver } from './policyResolver.ts';
import { createIdentityView } from './securityIdentities.ts';
import type { ServicesStatus } from './servicesController.ts';

/** The part of NodeDatapath the agent uses; tests pass a recording implementation. */
export type AgentDatapath = Pick<NodeDatapath, 'attachEndpoint' | 'detachEndpoint' | 'onEvents' | 'counters' | 'bootNsToWallMs'>;

export interface AgentOptions {
  nodeName: string;
  socketPath: string;
  stateDir: string;
  /** The cluster through the Kubernetes API's informers (createClusterState); the agent serves once they have synced. */
  cluster: ClusterState;
  ringCapacity?: number;
  datapath: AgentDatapath;
  /** How often the datapath's lost-event counter is checked. */
  lostEventsPollMs?: number;
  /** Every enriched flow, payload included (the hook L7 parsing attaches to). */
  onFlow?: (enriched: EnrichedFlow) => void;
  /** Where resolved policy and the ipcache go: the BPF maps in the real agent (createBpfPolicyDatapath), a recording implementation by default. */
  policyDatapath?: PolicyDatapath;
  /** How often pod and node addresses are checked for changes to send to the policy datapath. */
  hostAddressPollMs?: number;
  /** Hubble metrics: every flow the observer publishes feeds them; served on `listen` at GET /metrics. */
  metrics?: { flowMetrics: FlowMetrics; listen: ListenAddress };
  /** The service load-balancer's controller, served at GET /v1/services; scheduled on every cluster change. */
  services?: {
    status(): ServicesStatus;
    schedule?(): void;
    serviceOfBackend?(address: string, port: number, protocol: 'TCP' | 'UDP'): { name: string; namespace: string } | undefined;
  };
  /** How long a registration waits for its pod and identity to be known (default REGISTER_WAIT_MS). */
  registerWaitMs?: number;
  log?: (message: string) => void;
}

const REGISTER_WAIT_MS = 5000;

/**
 * One node's agent: restores and serves endpoints, turns datapath events into
 * Hubble flows in the observer, and serves the API on the node's socket.
 */
export async function startAgent(options: AgentOptions) {
  const log = options.log ?? ((message: string) => console.error(`[agent ${options.nodeName}] ${message}`));
  const cluster = options.cluster;
  // Handlers only enqueue: one reconcile of everything derived from the cluster runs per burst of changes.
  let reconcileQueued = false;
  let reconcile: () => void = () => {};
  const enqueueReconcile = () => {
    if (reconcileQueued) return;
    reconcileQueued = true;
    setImmediate(() => {
      reconcileQueued = false;
      reconcile();
    });
  };
  const identities = createIdentityView(cluster.identities, { onChange: enqueueReconcile, log });
  const unsubscribeCluster = cluster.subscribe(enqueueReconcile);
  if (!cluster.hasSynced) log(`waiting for the Kubernetes API's caches: ${cluster.unsynced().join(', ')}`);
  await cluster.synced;
  log(`caches synced; pod CIDR ${cluster.podCidr() ?? '(the Node has no spec.podCIDR)'}`);
  let closed = false;
  let endpoints: EndpointManager | undefined;
  const ipCache = new IpCache({
    store: cluster.view,
    identities,
    nodeName: options.nodeName,
    hostIPs: localAddresses(),
    localEndpointByIp: (ip) => endpoints?.byIp(ip),
  });
  endpoints = new EndpointManager({
    stateDir: options.stateDir,
    datapath: options.datapath,
    resolvePod: (namespace, podName) => ipCache.podSecurity(namespace, podName),
    log,
  });
  const localEndpoints = endpoints;
  const restored = localEndpoints.restore();
  log(`restored ${restored.length} endpoint(s)`);

  const flowMetrics = options.metrics?.flowMetrics;
  const observer = new Observer({
    nodeName: options.nodeName,
    ...(options.ringCapacity ? { ringCapacity: options.ringCapacity } : {}),
    ...(flowMetrics ? { listener: { onFlow: (flow) => flowMetrics.processFlow(flow), onLost: (source, count) => flowMetrics.reportLost(source, count) } } : {}),
  });
  const policyDatapath = options.policyDatapath ?? createRecordingPolicyDatapath().datapath;
  const clusterPolicies = createClusterPolicyReader(cluster.informers);
  const policy: PolicyResolver = new PolicyResolver({
    readPolicies: clusterPolicies.read,
    namespaceLabels: () => cluster.namespaceLabels(),
    identities: () => identities.list().map((record) => ({ id: record.identity, labels: record.labels })),
    endpoints: () => localEndpoints.list(),
    dnsRecords: () => fqdnCache.records(),
    datapath: policyDatapath,
    log,
  });
  const interfaceNames = createInterfaceNameLookup();
  const services = options.services;
  const enricher = createFlowEnricher({
    ...(services?.serviceOfBackend ? { serviceOfBackend: (address, port, protocol) => services.serviceOfBackend?.(address, port, protocol) } : {}),
    namePolicies: (flow) => namePoliciesOnFlow(flow, policy),
    nodeName: options.nodeName,
    lookupIp: (ip) => ipCache.lookup(ip),
    bootNsToWallMs: (tsNs) => options.datapath.bootNsToWallMs(tsNs),
    interfaceName: (ifindex) => localEndpoints.byIfindex(ifindex)?.hostIfname ?? interfaceNames.nameOf(ifindex),
    endpointAddressAt: (ifindex) => localEndpoints.byIfindex(ifindex)?.ipv4,
    // Workload identities are cluster-wide; CIDR identities (world addresses policy names) are the resolver's.
    labelsOfIdentity: (identity) => {
      const labels = identities.labelsOf(identity) ?? policy.cidrIdentity(identity)?.labels;
      return labels ? [...labels] : undefined;
    },
  });
  const fqdnCache = new FqdnCache({ onLearn: () => policy.schedule() });
  const l7Tracker = createL7Tracker({ fqdnCache });
  options.datapath.onEvents((batch) => {
    for (const event of batch) {
      const enriched = enricher.enrich(event);
      fqdnCache.label(enriched.flow);
      // A PAYLOAD event is a packet with L7 bytes and nothing new at L3/L4:
      // it feeds L7 parsing but is not an L3/L4 flow of its own.
      if (!isPayloadOnly(event)) observer.publish(enriched.flow);
      // The payload is a view into the datapath's batch buffer: parse it now.
      const l7Flow = enriched.payload ? l7Tracker.observe(enriched) : undefined;
      if (l7Flow) observer.publish(l7Flow);
      options.onFlow?.(enriched);
    }
  });

  let lostSeen = options.datapath.counters().lostEvents;
  const lostTimer = setInterval(() => {
    const lost = options.datapath.counters().lostEvents;
    if (lost > lostSeen) observer.reportLost('PERF_EVENT_RING_BUFFER', lost - lostSeen);
    lostSeen = lost;
  }, options.lostEventsPollMs ?? 1000);
  lostTimer.unref();

  // The ipcache's pod and node addresses: before the first resolution, and
  // whenever the cluster or the local endpoints change (checked cheaply: the
  // IpCache rebuilds only after an informer reported a change).
  let sentHostAddresses = '';
  const syncHostAddresses = () => {
    const byAddress = new Map(ipCache.addresses().map((entry) => [entry.address, entry]));
    for (const endpoint of localEndpoints.list()) {
      if (endpoint.ipv4) byAddress.set(endpoint.ipv4, { address: endpoint.ipv4, identity: endpoint.identity, local: true });
    }
    const addresses = [...byAddress.values()].sort((a, b) => a.address.localeCompare(b.address));
    const text = JSON.stringify(addresses);
    if (text === sentHostAddresses) return;
    try {
      policyDatapath.updateHostAddresses(addresses);
      sentHostAddresses = text;
    } catch (err) {
      log(`policy datapath: ipcache: ${(err as Error).message}`);
    }
  };
  syncHostAddresses();
  const hostAddressTimer = setInterval(syncHostAddresses, options.hostAddressPollMs ?? 250);
  hostAddressTimer.unref();

  /**
   * A local endpoint whose pod's labels changed, or that waited on the
   * reserved init identity, gets its identity again (re-registered with the
   * same registration: same endpoint id, programs re-attached).
   */
  const reconcileEndpointIdentities = () => {
    for (const endpoint of localEndpoints.list()) {
      const security = ipCache.podSecurity(endpoint.namespace, endpoint.podName);
      if (security.identity === endpoint.identity && security.labels.join('\n') === endpoint.labels.join('\n')) continue;
      const { id: _id, identity: _identity, labels: _labels, ...registration } = endpoint;
      try {
        const updated = localEndpoints.register(registration);
        log(`endpoint ${updated.id} (${updated.namespace}/${updated.podName}): identity ${endpoint.identity} -> ${updated.identity}`);
      } catch (err) {
        log(`endpoint ${endpoint.id} (${endpoint.namespace}/${endpoint.podName}): cannot update its identity: ${(err as Error).message}`);
      }
    }
  };
  /**
   * Waits, at most REGISTER_WAIT_MS, until the informers have the pod and its
   * label set has an identity: the CNI ADD can come right after the pod was
   * bound, before its watch event. Past that the endpoint starts with the
   * init identity and gets its own from the reconcile.
   */
  const podSettled = async (namespace: string, podName: string): Promise<void> => {
    const deadline = Date.now() + (options.registerWaitMs ?? REGISTER_WAIT_MS);
    while (Date.now() < deadline && !closed) {
      if (ipCache.knowsPod(namespace, podName) && ipCache.podSecurity(namespace, podName).identity !== ReservedIdentity.init) return;
      ipCache.markStale();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  reconcile = () => {
    ipCache.markStale();
    reconcileEndpointIdentities();
    syncHostAddresses();
    policy.schedule();
    options.services?.schedule?.();
  };
  // Scheduled rather than run here: a policy that cannot be resolved is logged, never fatal to the agent.
  policy.schedule();
  const endpointRegistry = {
    register: async (registration: Parameters<EndpointManager['register']>[0]) => {
      await podSettled(registration.namespace, registration.podName);
      const endpoint = localEndpoints.register(registration);
      syncHostAddresses();
      policy.schedule();
      return endpoint;
    },
    deregister: (containerId: string) => {
      localEndpoints.deregister(containerId);
      syncHostAddresses();
      policy.schedule();
    },
    list: () => localEndpoints.list(),
  };
  const api = createApiServer({
    observer,
    endpoints: endpointRegistry,
    policies: policy,
    kubernetes: { status: () => ({ synced: cluster.hasSynced, unsynced: cluster.unsynced(), ...(cluster.podCidr() ? { pod_cidr: cluster.podCidr() } : {}) }) },
    log,
    ...(options.services ? { services: options.services } : {}),
  });
  await api.listen(options.socketPath);
  log(`listening on ${options.socketPath}`);
  const metricsServer = options.metrics ? await startMetricsServer(options.metrics.flowMetrics, options.metrics.listen) : undefined;
  if (metricsServer) log(`serving metrics on ${metricsServer.address.address}:${metricsServer.address.port}/metrics`);

  return {
    observer,
    endpoints: localEndpoints,
    ipCache,
    policy,
    async stop(): Promise<void> {
      closed = true;
      clearInterval(lostTimer);
      clearInterval(hostAddressTimer);
      unsubscribeCluster();
      identities.close();
      clusterPolicies.close();
      policy.close();
      await Promise.all([api.close(), metricsServer?.close()]);
    },
  } as const;
}

export type Agent = Awaited<ReturnType<typeof startAgent>>;

function isPayloadOnly(event: FlowEvent): boolean {
  return event.type === EventType.TRACE && event.subType === TraceReason.PAYLOAD;
}

/** This node's own addresses: the agent runs in the node's network namespace. */
function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .map((address) => address.address);
}
