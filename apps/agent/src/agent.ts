import { mkdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { EventType, TraceReason, type FlowEvent, type NodeDatapath } from '@tycho/datapath';
import { DirectoryKubeStore, type KubeStore } from '@tycho/kube';
import type { FlowMetrics } from '@tycho/metrics';
import { createApiServer } from './apiServer.ts';
import { EndpointManager } from './endpointManager.ts';
import { createFlowEnricher, type EnrichedFlow } from './flowEnricher.ts';
import { FqdnCache } from './fqdnCache.ts';
import { IdentityAllocator } from './identityAllocator.ts';
import { createInterfaceNameLookup } from './interfaceNames.ts';
import { IpCache } from './ipCache.ts';
import { createL7Tracker } from './l7Tracker.ts';
import { startMetricsServer, type ListenAddress } from './metricsServer.ts';
import { Observer } from './observer.ts';
import { namePoliciesOnFlow } from './flowPolicies.ts';
import { createRecordingPolicyDatapath, type PolicyDatapath } from './policyDatapath.ts';
import { PolicyResolver } from './policyResolver.ts';
import { createStoredPolicyReader } from './storedPolicies.ts';
import type { ServicesStatus } from './servicesController.ts';

/** The part of NodeDatapath the agent uses; tests pass a recording implementation. */
export type AgentDatapath = Pick<NodeDatapath, 'attachEndpoint' | 'detachEndpoint' | 'onEvents' | 'counters' | 'bootNsToWallMs'>;

export interface AgentOptions {
  nodeName: string;
  socketPath: string;
  stateDir: string;
  /** Root of the KubeStore; identities are allocated under `<kubeDir>/identities/`. */
  kubeDir: string;
  ringCapacity?: number;
  datapath: AgentDatapath;
  /** Defaults to a DirectoryKubeStore at `kubeDir`. */
  kubeStore?: KubeStore;
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
  /** The service load-balancer's controller, served at GET /v1/services. */
  services?: { status(): ServicesStatus; serviceOfBackend?(address: string, port: number, protocol: 'TCP' | 'UDP'): { name: string; namespace: string } | undefined };
  log?: (message: string) => void;
}

/**
 * One node's agent: restores and serves endpoints, turns datapath events into
 * Hubble flows in the observer, and serves the API on the node's socket.
 */
export async function startAgent(options: AgentOptions) {
  const log = options.log ?? ((message: string) => console.error(`[agent ${options.nodeName}] ${message}`));
  mkdirSync(options.kubeDir, { recursive: true });
  const identities = new IdentityAllocator(join(options.kubeDir, 'identities'));
  let endpoints: EndpointManager | undefined;
  const ipCache = new IpCache({
    store: options.kubeStore ?? new DirectoryKubeStore(options.kubeDir),
    identities,
    nodeName: options.nodeName,
    hostIPs: localAddresses(),
    localEndpointByIp: (ip) => endpoints?.byIp(ip),
  });
  ipCache.watch(options.kubeDir);
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
  const policyStore = new DirectoryKubeStore(options.kubeDir);
  const policy: PolicyResolver = new PolicyResolver({
    readPolicies: createStoredPolicyReader(policyStore.policies),
    namespaceLabels: () => new Map(policyStore.listNamespaces().flatMap((ns) => (ns.metadata?.name ? [[ns.metadata.name, ns.metadata.labels ?? {}] as const] : []))),
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
  // whenever the store or the local endpoints change (checked cheaply: the
  // IpCache rebuilds only after a change under the kube dir).
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

  // Scheduled rather than run here: a store file that cannot be read is logged, never fatal to the agent.
  policy.schedule();
  policy.watch(options.kubeDir);
  const endpointRegistry = {
    register: (registration: Parameters<EndpointManager['register']>[0]) => {
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
  const api = createApiServer({ observer, endpoints: endpointRegistry, policies: policy, log, ...(options.services ? { services: options.services } : {}) });
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
      clearInterval(lostTimer);
      clearInterval(hostAddressTimer);
      ipCache.close();
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
