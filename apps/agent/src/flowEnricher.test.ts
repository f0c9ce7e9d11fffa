import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FlowEvent } from '@tycho/datapath';
import { startTestCluster, type TestCluster } from './clusterState.fixture.ts';
import type { ClusterState } from './clusterState.ts';
import { createFlowEnricher } from './flowEnricher.ts';
import { IpCache, type LocalEndpointView } from './ipCache.ts';
import { createIdentityView, securityLabels, type IdentityView } from './securityIdentities.ts';

const BOOT_EPOCH_MS = Date.UTC(2024, 0, 1);

function flowEvent(overrides: Partial<FlowEvent> = {}): FlowEvent {
  return {
    tsNs: 20 * 60e9 + 34_567_891_234,
    type: 4,
    subType: 1,
    obsPoint: 5,
    verdict: 1,
    ifindex: 17,
    endpointId: 3,
    isReply: false,
    tcpFlags: 0x02,
    dropReason: 0,
    policyMatch: 0,
    family: 4,
    proto: 6,
    saddr: '10.244.0.5',
    daddr: '10.244.1.7',
    sport: 51234,
    dport: 8080,
    srcIdentity: 0,
    dstIdentity: 0,
    packetsFwd: 1,
    bytesFwd: 60,
    packetsRev: 0,
    bytesRev: 0,
    pktLen: 60,
    payload: undefined,
    ...overrides,
  };
}

let cluster: TestCluster;
let state: ClusterState;
let view: IdentityView & { close(): void };
/** The cluster's informers, for the IpCache: a test reads them once they hold what it wrote. */
let store: ClusterState['view'];
const localEndpoints = new Map<string, LocalEndpointView>();

/** The identity the API holds for a label set (the test waited for it to be allocated). */
const identities = {
  identityFor(labels: readonly string[]): number {
    const identity = view.identityOf(labels);
    if (identity === undefined) throw new Error(`no identity for ${labels.join(',')} yet`);
    return identity;
  },
};

/** Writes a pod through the API server and waits until the informers have it and its identity. */
async function addPod(namespace: string, name: string, node: string, ip: string, labels: Record<string, string>, replicaSet?: string): Promise<void> {
  cluster.put('pods', {
    metadata: {
      name,
      namespace,
      labels,
      ...(replicaSet ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet, uid: 'u', controller: true }] } : {}),
    },
    spec: { nodeName: node, containers: [{ name: 'main', image: 'tycho/echo' }] },
    status: { podIP: ip, hostIP: node === 'node-1' ? '172.18.0.2' : '172.18.0.3' },
  });
  await vi.waitFor(() => {
    expect(state.informers.informer('pods').get(namespace, name)).toBeDefined();
    expect(view.identityOf(securityLabels(namespace, labels))).toBeDefined();
  });
}

function enricher(extra: Partial<Parameters<typeof createFlowEnricher>[0]> = {}) {
  const ipCache = new IpCache({
    store,
    identities: view,
    nodeName: 'node-1',
    localEndpointByIp: (ip) => localEndpoints.get(ip),
  });
  return createFlowEnricher({
    nodeName: 'node-1',
    lookupIp: (ip) => ipCache.lookup(ip),
    bootNsToWallMs: (tsNs) => BOOT_EPOCH_MS + tsNs / 1e6,
    interfaceName: (ifindex) => (ifindex === 17 ? 'lxc-pod-to-a' : undefined),
    newUuid: () => 'c0ffee00-0000-4000-8000-000000000001',
    ...extra,
  });
}

beforeEach(async () => {
  cluster = await startTestCluster();
  state = cluster.clusterState('node-1');
  await state.synced;
  view = createIdentityView(state.identities, { onChange: () => {} });
  store = state.view;
  localEndpoints.clear();
  cluster.put('nodes', { metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }] } });
  cluster.put('nodes', { metadata: { name: 'node-2' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.3' }] } });
  await addPod('default', 'pod-to-a-5f7c9-abcde', 'node-1', '10.244.0.5', { name: 'pod-to-a' }, 'pod-to-a-5f7c9');
  await addPod('default', 'echo-a-6d9c8-fghij', 'node-2', '10.244.1.7', { name: 'echo-a' }, 'echo-a-6d9c8');
  await vi.waitFor(() => expect(state.informers.informer('nodes').size).toBe(2));
});
afterEach(async () => {
  view.close();
  await cluster.close();
});

describe('flow enricher', () => {
  it('names the service of a backend: destination_service on requests, source_service on replies', () => {
    const echoA = { name: 'echo-a', namespace: 'default' };
    const asked: string[] = [];
    const withServices = enricher({
      serviceOfBackend: (address, port, protocol) => {
        asked.push(`${address}:${port}/${protocol}`);
        return address === '10.244.1.7' && port === 8080 && protocol === 'TCP' ? echoA : undefined;
      },
    });
    const request = withServices.enrich(flowEvent()).flow;
    expect(request.destination_service).toEqual(echoA);
    expect(request.source_service).toBeUndefined();
    // Hubble's field order: the services come right after event_type.
    expect(Object.keys(request).slice(Object.keys(request).indexOf('event_type'), Object.keys(request).indexOf('event_type') + 2)).toEqual(['event_type', 'destination_service']);

    const reply = withServices.enrich(flowEvent({ isReply: true, saddr: '10.244.1.7', daddr: '10.244.0.5', sport: 8080, dport: 51234, obsPoint: 4 })).flow;
    expect(reply.source_service).toEqual(echoA);
    expect(reply.destination_service).toBeUndefined();

    const udpElsewhere = withServices.enrich(flowEvent({ proto: 17, dport: 53 })).flow;
    expect(udpElsewhere.destination_service).toBeUndefined();
    const icmp = withServices.enrich(flowEvent({ proto: 1, sport: 8, dport: 0 })).flow;
    expect(icmp.destination_service).toBeUndefined();
    expect(asked).toEqual(['10.244.1.7:8080/TCP', '10.244.1.7:8080/TCP', '10.244.1.7:53/UDP']);
  });

  it('turns an egress TCP SYN between pods into a Hubble flow', () => {
    const clientLabels = ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=pod-to-a'];
    const echoLabels = ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=echo-a'];
    const clientIdentity = identities.identityFor(clientLabels);
    localEndpoints.set('10.244.0.5', { id: 3, identity: clientIdentity, labels: clientLabels, namespace: 'default', podName: 'pod-to-a-5f7c9-abcde' });

    const { flow } = enricher().enrich(flowEvent());

    expect(flow).toEqual({
      time: '2024-01-01T00:20:34.567891234Z',
      uuid: 'c0ffee00-0000-4000-8000-000000000001',
      verdict: 'FORWARDED',
      IP: { source: '10.244.0.5', destination: '10.244.1.7', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 51234, destination_port: 8080, flags: { SYN: true } } },
      source: {
        ID: 3,
        identity: clientIdentity,
        namespace: 'default',
        labels: clientLabels,
        pod_name: 'pod-to-a-5f7c9-abcde',
        workloads: [{ name: 'pod-to-a', kind: 'Deployment' }],
      },
      destination: {
        identity: identities.identityFor(echoLabels),
        namespace: 'default',
        labels: echoLabels,
        pod_name: 'echo-a-6d9c8-fghij',
        workloads: [{ name: 'echo-a', kind: 'Deployment' }],
      },
      Type: 'L3_L4',
      node_name: 'node-1',
      event_type: { type: 4, sub_type: 5 },
      traffic_direction: 'EGRESS',
      trace_observation_point: 'FROM_ENDPOINT',
      is_reply: false,
      interface: { index: 17, name: 'lxc-pod-to-a' },
      traffic: { packets_fwd: 1, bytes_fwd: 60, packets_rev: 0, bytes_rev: 0 },
      Summary: 'TCP Flags: SYN',
    });
  });

  it('marks a packet delivered to a pod as ingress at to-endpoint (sub_type 0 is left out)', () => {
    const { flow } = enricher().enrich(flowEvent({ obsPoint: 101 }));
    expect(flow.traffic_direction).toBe('INGRESS');
    expect(flow.trace_observation_point).toBe('TO_ENDPOINT');
    expect(flow.event_type).toEqual({ type: 4 });
  });

  it('gives replies the direction of their connection', () => {
    const reply = { isReply: true, tcpFlags: 0x12, saddr: '10.244.1.7', daddr: '10.244.0.5', sport: 8080, dport: 51234 };
    expect(enricher().enrich(flowEvent({ ...reply, obsPoint: 101 })).flow.traffic_direction).toBe('EGRESS');
    expect(enricher().enrich(flowEvent({ ...reply, obsPoint: 5 })).flow.traffic_direction).toBe('INGRESS');
    expect(enricher().enrich(flowEvent({ ...reply, obsPoint: 101 })).flow.Summary).toBe('TCP Flags: SYN, ACK');
  });

  it('names this node host, other nodes remote-node and unknown addresses world', () => {
    const e = enricher();
    expect(e.enrich(flowEvent({ saddr: '172.18.0.2' })).flow.source).toEqual({ identity: 1, labels: ['reserved:host'] });
    expect(e.enrich(flowEvent({ saddr: '172.18.0.3' })).flow.source).toEqual({ identity: 6, labels: ['reserved:remote-node'] });
    expect(e.enrich(flowEvent({ daddr: '192.0.2.10' })).flow.destination).toEqual({ identity: 2, labels: ['reserved:world'] });
  });

  describe('link-local and multicast addresses (Neighbor Discovery, MLD)', () => {
    const podLabels = ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=pod-to-a'];
    const podLinkLocal = 'fe80::a8c1:abff:fe12:3456';
    /** The pod behind veth 17, as the endpoint manager and the IP cache know it. */
    function podAtVeth() {
      const identity = identities.identityFor(podLabels);
      localEndpoints.set('10.244.0.5', { id: 3, identity, labels: podLabels, namespace: 'default', podName: 'pod-to-a-5f7c9-abcde' });
      const pod = { ID: 3, identity, namespace: 'default', labels: podLabels, pod_name: 'pod-to-a-5f7c9-abcde', workloads: [{ name: 'pod-to-a', kind: 'Deployment' }] };
      return { identity, pod, enricher: enricher({ endpointAddressAt: (ifindex) => (ifindex === 17 ? '10.244.0.5' : undefined) }) };
    }
    const icmpv6 = (type: number, saddr: string, daddr: string) => ({ family: 6 as const, proto: 58, sport: type, dport: 0, tcpFlags: 0, saddr, daddr });

    it('gives a neighbor solicitation from the pod\'s link-local address, captured on its veth, to the pod; its multicast peer has no identity, not world', () => {
      const { identity, pod, enricher: e } = podAtVeth();
      // The datapath names the veth's endpoint as the source at from-endpoint (bpf_lxc.c event_meta_init).
      const { flow } = e.enrich(flowEvent({ ...icmpv6(135, podLinkLocal, 'ff02::1:ff00:1'), srcIdentity: identity }));
      expect(flow.source).toEqual(pod);
      expect(flow.destination).toEqual({ identity: 0, labels: [] });
      expect(flow.l4).toEqual({ ICMPv6: { type: 135, code: 0 } });
    });

    it('gives duplicate address detection (from the unspecified address) and MLD reports to the pod', () => {
      const { pod, enricher: e } = podAtVeth();
      expect(e.enrich(flowEvent(icmpv6(135, '::', 'ff02::1:ff12:3456'))).flow.source).toEqual(pod);
      expect(e.enrich(flowEvent(icmpv6(143, podLinkLocal, 'ff02::16'))).flow.source).toEqual(pod);
    });

    it('gives a neighbor advertisement delivered to the pod\'s link-local address to the pod at to-endpoint', () => {
      const { pod, enricher: e } = podAtVeth();
      const { flow } = e.enrich(flowEvent({ ...icmpv6(136, 'fe80::1', podLinkLocal), obsPoint: 101 }));
      expect(flow.destination).toEqual(pod);
      expect(flow.source).toEqual({ identity: 0, labels: [] });
    });

    it('gives IPv4 link-local and multicast peers no identity, even where the datapath\'s ipcache said world', () => {
      const e = enricher();
      expect(e.enrich(flowEvent({ daddr: '169.254.169.254', dstIdentity: 2 })).flow.destination).toEqual({ identity: 0, labels: [] });
      expect(e.enrich(flowEvent({ proto: 17, daddr: '224.0.0.251', dport: 5353 })).flow.destination).toEqual({ identity: 0, labels: [] });
    });

    it('does not take a packet\'s unicast source for the veth\'s pod', () => {
      const { enricher: e } = podAtVeth();
      expect(e.enrich(flowEvent({ saddr: '192.0.2.10' })).flow.source).toEqual({ identity: 2, labels: ['reserved:world'] });
    });
  });

  it('reports drops with their reason', () => {
    const { flow } = enricher().enrich(flowEvent({ type: 1, verdict: 2, dropReason: 133, subType: 133 }));
    expect(flow.verdict).toBe('DROPPED');
    expect(flow.drop_reason).toBe(133);
    expect(flow.drop_reason_desc).toBe('POLICY_DENIED');
    expect(flow.event_type).toEqual({ type: 1, sub_type: 133 });
  });

  it('gives a drop its traffic direction but no observation point, as Hubble does', () => {
    const { flow } = enricher().enrich(flowEvent({ type: 1, verdict: 2, dropReason: 133, subType: 133, obsPoint: 5 }));
    expect(flow.traffic_direction).toBe('EGRESS');
    expect(flow.trace_observation_point).toBeUndefined();
  });

  it('turns a policy-verdict event into a verdict flow: direction from its sub-type, match type, no trace point or counters', () => {
    const clientLabels = ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=pod-to-a'];
    const clientIdentity = identities.identityFor(clientLabels);
    localEndpoints.set('10.244.0.5', { id: 3, identity: clientIdentity, labels: clientLabels, namespace: 'default', podName: 'pod-to-a-5f7c9-abcde' });
    const named: string[] = [];
    const e = enricher({ namePolicies: (flow) => void named.push(flow.uuid) });
    const { flow } = e.enrich(flowEvent({ type: 5, subType: 2, policyMatch: 2, srcIdentity: clientIdentity, dstIdentity: 4242, packetsFwd: 0, bytesFwd: 0 }));
    expect(flow).toMatchObject({
      verdict: 'FORWARDED',
      Type: 'L3_L4',
      event_type: { type: 5, sub_type: 2 },
      traffic_direction: 'EGRESS',
      policy_match_type: 2,
      is_reply: false,
      source: { ID: 3, identity: clientIdentity, pod_name: 'pod-to-a-5f7c9-abcde' },
      destination: { identity: 4242, pod_name: 'echo-a-6d9c8-fghij' },
      l4: { TCP: { destination_port: 8080, flags: { SYN: true } } },
      Summary: 'TCP Flags: SYN',
    });
    expect(flow.trace_observation_point).toBeUndefined();
    expect(flow.traffic).toBeUndefined();
    expect(flow.drop_reason_desc).toBeUndefined();
    expect(named).toHaveLength(1);

    const ingress = e.enrich(flowEvent({ type: 5, subType: 1, policyMatch: 0, obsPoint: 101 })).flow;
    expect(ingress.traffic_direction).toBe('INGRESS');
    expect(ingress.event_type).toEqual({ type: 5, sub_type: 1 });
    // Zero values are left out, as protobuf JSON does: match type none.
    expect('policy_match_type' in ingress).toBe(false);
  });

  it('decodes UDP and ICMP', () => {
    const udp = enricher().enrich(flowEvent({ proto: 17, sport: 40000, dport: 53, tcpFlags: 0 })).flow;
    expect(udp.l4).toEqual({ UDP: { source_port: 40000, destination_port: 53 } });
    expect(udp.Summary).toBe('UDP');
    const icmp = enricher().enrich(flowEvent({ proto: 1, sport: 8, dport: 0, tcpFlags: 0 })).flow;
    expect(icmp.l4).toEqual({ ICMPv4: { type: 8, code: 0 } });
    expect(icmp.Summary).toBe('ICMPv4 EchoRequest');
  });

  it('prefers the identity the datapath resolved, with that identity’s labels', () => {
    const e = enricher();
    expect(e.enrich(flowEvent({ daddr: '192.0.2.10', dstIdentity: 4242 })).flow.destination).toEqual({ identity: 4242, labels: [] });
    expect(e.enrich(flowEvent({ daddr: '192.0.2.10', dstIdentity: 1 })).flow.destination).toEqual({ identity: 1, labels: ['reserved:host'] });
  });

  it('carries the connection’s conntrack counters as traffic', () => {
    const { flow } = enricher().enrich(flowEvent({ packetsFwd: 12, bytesFwd: 3400, packetsRev: 10, bytesRev: 56_000 }));
    expect(flow.traffic).toEqual({ packets_fwd: 12, bytes_fwd: 3400, packets_rev: 10, bytes_rev: 56_000 });
  });

  it('keeps the payload for L7 parsing', () => {
    const payload = new TextEncoder().encode('GET / HTTP/1.1\r\n');
    expect(enricher().enrich(flowEvent({ payload })).payload).toBe(payload);
  });

  it('sees a pod added to the API server after an unknown-address miss once the rate limit allows', async () => {
    let now = 0;
    const ipCache = new IpCache({ store, identities: view, nodeName: 'node-1', missRefreshIntervalMs: 1000, now: () => now });
    expect(ipCache.lookup('10.244.1.9').labels).toEqual(['reserved:world']);
    await addPod('default', 'late-1', 'node-2', '10.244.1.9', { name: 'late' });
    now = 500;
    expect(ipCache.lookup('10.244.1.9').labels).toEqual(['reserved:world']);
    now = 1000;
    expect(ipCache.lookup('10.244.1.9').podName).toBe('late-1');
  });
});
