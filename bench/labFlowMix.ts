// A mix of flows like the lab's, for the filter and metrics benchmarks: TCP
// connections between pods (SYN, SYN-ACK, ACK, PSH, FIN at both observation
// points), UDP DNS to CoreDNS with its L7 DNS request/response, L7 HTTP
// request/response pairs, HTTPS and ping to the world, and a policy drop.
// Built on the metrics tests' fixture (testFlow: client → echo-a:8080 SYN).
import { MonitorEventType, type Endpoint, type Flow, type TCPFlags } from '@tycho/flow';
import { testFlow, testL7Flow } from '../packages/metrics/src/flows.fixture.ts';

const TO_ENDPOINT = { type: MonitorEventType.TRACE, sub_type: 0 };
const FROM_ENDPOINT = { type: MonitorEventType.TRACE, sub_type: 5 };

const clients = ['client', 'pod-to-a', 'pod-to-external-fqdn'].map((name, i): { ip: string; endpoint: Endpoint } => ({
  ip: `10.244.0.${10 + i}`,
  endpoint: {
    ID: 12 + i,
    identity: 300 + i,
    namespace: 'default',
    labels: [`k8s:app=${name}`, 'k8s:io.kubernetes.pod.namespace=default'],
    pod_name: `${name}-6d8f9c7b5-x2x7${i}`,
    workloads: [{ name, kind: 'Deployment' }],
  },
}));
const echoA = { ip: '10.244.1.20', endpoint: testFlow().destination! };
const coredns = {
  ip: '10.244.1.2',
  endpoint: {
    identity: 102,
    namespace: 'kube-system',
    labels: ['k8s:k8s-app=kube-dns', 'k8s:io.kubernetes.pod.namespace=kube-system'],
    pod_name: 'coredns-5d78c9869d-7xk2p',
    workloads: [{ name: 'coredns', kind: 'Deployment' }],
  },
};
const world = { ip: '142.250.74.36', endpoint: { identity: 2, labels: ['reserved:world'] } };

type Side = { ip: string; endpoint: Endpoint };

function between(from: Side, to: Side, isReply: boolean, overrides: Partial<Flow>): Flow {
  const [src, dst] = isReply ? [to, from] : [from, to];
  return testFlow({
    IP: { source: src.ip, destination: dst.ip, ipVersion: 'IPv4' },
    source: src.endpoint,
    destination: dst.endpoint,
    is_reply: isReply,
    ...overrides,
  });
}

function tcp(from: Side, to: Side, port: number, clientPort: number, isReply: boolean, flags: TCPFlags, node: string, ingress: boolean): Flow {
  const ports = isReply ? { source_port: port, destination_port: clientPort } : { source_port: clientPort, destination_port: port };
  return between(from, to, isReply, {
    l4: { TCP: { ...ports, flags } },
    node_name: node,
    traffic_direction: ingress ? 'INGRESS' : 'EGRESS',
    event_type: ingress ? TO_ENDPOINT : FROM_ENDPOINT,
    trace_observation_point: ingress ? 'TO_ENDPOINT' : 'FROM_ENDPOINT',
    ...(to === world ? { destination_names: isReply ? undefined : ['www.google.com'], source_names: isReply ? ['www.google.com'] : undefined } : {}),
  });
}

/** One TCP connection as both nodes' agents see it: each packet at FROM_ENDPOINT (node-1) and TO_ENDPOINT (node-2). */
function tcpConnection(from: Side, to: Side, port: number, clientPort: number): Flow[] {
  const packets: [boolean, TCPFlags][] = [
    [false, { SYN: true }],
    [true, { SYN: true, ACK: true }],
    [false, { ACK: true }],
    [false, { PSH: true, ACK: true }],
    [true, { PSH: true, ACK: true }],
    [false, { FIN: true, ACK: true }],
    [true, { FIN: true, ACK: true }],
    [false, { ACK: true }],
  ];
  const toPod = to !== world;
  return packets.flatMap(([isReply, flags]) => [
    tcp(from, to, port, clientPort, isReply, flags, 'node-1', false),
    ...(toPod ? [tcp(from, to, port, clientPort, isReply, flags, 'node-2', true)] : []),
  ]);
}

function dnsExchange(from: Side, clientPort: number, query: string, qtype: string, ips: string[]): Flow[] {
  const udpOut = { UDP: { source_port: clientPort, destination_port: 53 } };
  const udpBack = { UDP: { source_port: 53, destination_port: clientPort } };
  const common = { node_name: 'node-1', traffic_direction: 'EGRESS' as const };
  const l3 = (isReply: boolean) =>
    between(from, coredns, isReply, { ...common, l4: isReply ? udpBack : udpOut, event_type: FROM_ENDPOINT, trace_observation_point: 'FROM_ENDPOINT' });
  const l7 = (isReply: boolean, record: NonNullable<Flow['l7']>) => {
    const base = between(from, coredns, isReply, { ...common, l4: isReply ? udpBack : udpOut });
    return testL7Flow(record, { IP: base.IP, source: base.source, destination: base.destination, is_reply: isReply, l4: base.l4, ...common, trace_observation_point: undefined });
  };
  return [
    l3(false),
    l7(false, { type: 'REQUEST', dns: { query, qtypes: [qtype] } }),
    l3(true),
    l7(true, {
      type: 'RESPONSE',
      latency_ns: 350_000,
      dns: ips.length > 0 ? { query, qtypes: [qtype], rcode: 0, ips, ttl: 30, rrtypes: ips.map(() => qtype) } : { query, qtypes: [qtype], rcode: 3 },
    }),
  ];
}

function httpExchange(from: Side, clientPort: number, method: string, path: string, code: number): Flow[] {
  const url = `http://echo-a:8080${path}`;
  const l7 = (isReply: boolean, record: NonNullable<Flow['l7']>, node: string, ingress: boolean) => {
    const ports = isReply ? { source_port: 8080, destination_port: clientPort } : { source_port: clientPort, destination_port: 8080 };
    const base = between(from, echoA, isReply, {});
    return testL7Flow(record, {
      IP: base.IP,
      source: base.source,
      destination: base.destination,
      is_reply: isReply,
      l4: { TCP: ports },
      node_name: node,
      traffic_direction: ingress ? 'INGRESS' : 'EGRESS',
      trace_observation_point: undefined,
    });
  };
  const request = { type: 'REQUEST' as const, http: { method, url, protocol: 'HTTP/1.1' } };
  const response = { type: 'RESPONSE' as const, latency_ns: 1_200_000, http: { code, method, url, protocol: 'HTTP/1.1' } };
  return [l7(false, request, 'node-1', false), l7(true, response, 'node-1', false), l7(false, request, 'node-2', true), l7(true, response, 'node-2', true)];
}

function ping(from: Side, to: Side): Flow[] {
  const icmp = (isReply: boolean) =>
    between(from, to, isReply, {
      l4: { ICMPv4: { type: isReply ? 0 : 8, code: 0 } },
      event_type: FROM_ENDPOINT,
      trace_observation_point: 'FROM_ENDPOINT',
      ...(isReply ? {} : { destination_names: ['www.google.com'] }),
    });
  return [icmp(false), icmp(true)];
}

function policyDrop(from: Side, clientPort: number): Flow {
  return between(from, echoA, false, {
    verdict: 'DROPPED',
    drop_reason_desc: 'POLICY_DENIED',
    event_type: { type: MonitorEventType.DROP, sub_type: 133 },
    l4: { TCP: { source_port: clientPort, destination_port: 9090, flags: { SYN: true } } },
    node_name: 'node-2',
    traffic_direction: 'INGRESS',
    trace_observation_point: undefined,
  });
}

/** One lab "cycle" for client `c`: the kinds of flows the lab's workloads make, in the proportions they make them. */
function cycle(c: number, n: number): Flow[] {
  const from = clients[c % clients.length]!;
  const port = 32768 + ((n * 7) % 28000);
  return [
    ...tcpConnection(from, echoA, 8080, port),
    ...dnsExchange(from, port + 1, 'echo-a.default.svc.cluster.local.', 'A', ['10.96.0.20']),
    ...dnsExchange(from, port + 2, 'echo-a.default.svc.cluster.local.', 'AAAA', []),
    ...dnsExchange(from, port + 3, 'www.google.com.', 'A', ['142.250.74.36']),
    ...httpExchange(from, port + 4, 'GET', n % 5 === 0 ? '/private' : '/public', n % 5 === 0 ? 403 : 200),
    ...(n % 3 === 0 ? tcpConnection(from, world, 443, port + 5) : []),
    ...(n % 3 === 1 ? ping(from, world) : []),
    ...(n % 4 === 0 ? [policyDrop(from, port + 6)] : []),
  ];
}

/** At least `count` distinct flow objects of the lab mix, each with its own uuid and ports. */
export function labFlowMix(count: number): Flow[] {
  const flows: Flow[] = [];
  for (let n = 0; flows.length < count; n++) flows.push(...cycle(n, n));
  return flows.map((flow, i) => ({ ...flow, uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));
}

/** What the mix holds, for a benchmark's checks. */
export function describeMix(flows: readonly Flow[]): string {
  const kinds = new Map<string, number>();
  for (const flow of flows) {
    const kind = flow.l7?.dns ? 'L7 DNS' : flow.l7?.http ? 'L7 HTTP' : flow.verdict === 'DROPPED' ? 'drop' : flow.l4?.ICMPv4 ? 'ICMP' : flow.l4?.UDP ? 'UDP' : flow.destination?.identity === 2 || flow.source?.identity === 2 ? 'TCP world' : 'TCP pod';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([k, v]) => `${k} ${v}`).join(', ');
}
