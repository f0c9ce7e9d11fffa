/**
 * Hubble's `flow.Flow`, shaped exactly as `hubble observe -o json` prints it
 * (protobuf JSON: snake_case names, enums as their names, zero values left out).
 * Everything Tycho stores, sends and prints about a packet is one of these.
 */

export const VERDICTS = ['VERDICT_UNKNOWN', 'FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED'] as const;
export type Verdict = (typeof VERDICTS)[number];
/** Hubble's numbering: the index in `VERDICTS` (FORWARDED = 1, DROPPED = 2, …). */
export function verdictFromCode(code: number): Verdict {
  return VERDICTS[code] ?? 'VERDICT_UNKNOWN';
}

export const TRAFFIC_DIRECTIONS = ['TRAFFIC_DIRECTION_UNKNOWN', 'INGRESS', 'EGRESS'] as const;
export type TrafficDirection = (typeof TRAFFIC_DIRECTIONS)[number];

export const FLOW_TYPES = ['UNKNOWN_TYPE', 'L3_L4', 'L7', 'SOCK'] as const;
export type FlowType = (typeof FLOW_TYPES)[number];

export type IPVersion = 'IP_NOT_USED' | 'IPv4' | 'IPv6';

/** Hubble's TraceObservationPoint, by its numeric value. */
export const TRACE_OBSERVATION_POINTS = {
  0: 'UNKNOWN_POINT',
  1: 'TO_PROXY',
  2: 'TO_HOST',
  3: 'TO_STACK',
  4: 'TO_OVERLAY',
  101: 'TO_ENDPOINT',
  5: 'FROM_ENDPOINT',
  6: 'FROM_PROXY',
  7: 'FROM_HOST',
  8: 'FROM_STACK',
  9: 'FROM_OVERLAY',
  10: 'FROM_NETWORK',
  11: 'TO_NETWORK',
} as const;
export type TraceObservationPoint = (typeof TRACE_OBSERVATION_POINTS)[keyof typeof TRACE_OBSERVATION_POINTS];

export function traceObservationPointFromCode(code: number): TraceObservationPoint {
  return (TRACE_OBSERVATION_POINTS as Record<number, TraceObservationPoint>)[code] ?? 'UNKNOWN_POINT';
}

/**
 * Cilium's monitor message types, which Hubble reports as `event_type.type`.
 */
export const MonitorEventType = {
  DROP: 1,
  DEBUG: 2,
  CAPTURE: 3,
  TRACE: 4,
  POLICY_VERDICT: 5,
  RECORD_CAPTURE: 6,
  TRACE_SOCK: 7,
  L7: 129,
} as const;

/**
 * Trace event sub-types (Cilium's TraceToLxc, TraceFromLxc, …), which is what
 * `event_type.sub_type` holds for trace events and what the compact printer
 * shows as TYPE (`to-endpoint`). They follow the observation points, except
 * that "to endpoint" is 0 here and 101 as an observation point.
 */
export const TRACE_SUB_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'to-endpoint',
  1: 'to-proxy',
  2: 'to-host',
  3: 'to-stack',
  4: 'to-overlay',
  5: 'from-endpoint',
  6: 'from-proxy',
  7: 'from-host',
  8: 'from-stack',
  9: 'from-overlay',
  10: 'from-network',
  11: 'to-network',
};

export function traceSubTypeFromObservationPoint(code: number): number {
  return code === 101 ? 0 : code;
}

/**
 * A policy-verdict flow records a policy decision on a connection's first
 * packet, which the connection's trace flow also reports: aggregates of
 * traffic (service map, metrics of packets and ports) skip it.
 */
export function isPolicyVerdict(flow: Flow): boolean {
  return flow.event_type.type === MonitorEventType.POLICY_VERDICT;
}

/** `policy_match_type` values (Cilium's PolicyMatchType) as Cilium names them. */
export const POLICY_MATCH_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'none',
  1: 'L3-Only',
  2: 'L3-L4',
  3: 'L4-Only',
  4: 'all',
};

export function policyMatchTypeName(code: number): string {
  return POLICY_MATCH_TYPE_NAMES[code] ?? `unknown-${code}`;
}

/** Drop reasons: code → Hubble's enum name and Cilium's human description. */
export const DROP_REASONS: Readonly<Record<number, { name: string; description: string }>> = {
  132: { name: 'INVALID_SOURCE_IP', description: 'Invalid source ip' },
  133: { name: 'POLICY_DENIED', description: 'Policy denied' },
  134: { name: 'INVALID_PACKET_DROPPED', description: 'Invalid packet' },
  135: { name: 'CT_TRUNCATED_OR_INVALID_HEADER', description: 'CT: Truncated or invalid header' },
  137: { name: 'CT_UNKNOWN_L4_PROTOCOL', description: 'CT: Unknown L4 protocol' },
  142: { name: 'UNKNOWN_L4_PROTOCOL', description: 'Unknown L4 protocol' },
  151: { name: 'STALE_OR_UNROUTABLE_IP', description: 'Stale or unroutable IP' },
  158: { name: 'SERVICE_BACKEND_NOT_FOUND', description: 'Service backend not found' },
  169: { name: 'FIB_LOOKUP_FAILED', description: 'FIB lookup failed' },
  171: { name: 'INVALID_IDENTITY', description: 'Invalid identity' },
  181: { name: 'POLICY_DENY', description: 'Policy denied by denylist' },
  196: { name: 'TTL_EXCEEDED', description: 'TTL exceeded' },
};

export function dropReasonName(code: number): string {
  return DROP_REASONS[code]?.name ?? 'DROP_REASON_UNKNOWN';
}

export function dropReasonDescription(code: number): string {
  return DROP_REASONS[code]?.description ?? `Unknown drop reason ${code}`;
}

export interface TCPFlags {
  FIN?: boolean;
  SYN?: boolean;
  RST?: boolean;
  PSH?: boolean;
  ACK?: boolean;
  URG?: boolean;
  ECE?: boolean;
  CWR?: boolean;
  NS?: boolean;
}

/** Bits of the TCP header's flags byte. */
export const TCP_FLAG_BITS = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export function tcpFlagsFromByte(bits: number): TCPFlags {
  const flags: TCPFlags = {};
  for (const [name, bit] of Object.entries(TCP_FLAG_BITS) as [keyof typeof TCP_FLAG_BITS, number][]) {
    if (bits & bit) flags[name] = true;
  }
  return flags;
}

/** The order Hubble lists flags in a summary: `TCP Flags: SYN, ACK`. */
const SUMMARY_FLAG_ORDER = ['SYN', 'ACK', 'RST', 'FIN', 'PSH', 'URG', 'ECE', 'CWR', 'NS'] as const;

export function tcpFlagsSummary(flags: TCPFlags): string {
  return SUMMARY_FLAG_ORDER.filter((name) => flags[name]).join(', ');
}

export interface Layer4 {
  TCP?: { source_port?: number; destination_port?: number; flags?: TCPFlags };
  UDP?: { source_port?: number; destination_port?: number };
  ICMPv4?: { type?: number; code?: number };
  ICMPv6?: { type?: number; code?: number };
}

export interface Workload {
  name: string;
  kind: string;
}

export interface Endpoint {
  ID?: number;
  identity?: number;
  namespace?: string;
  labels?: string[];
  pod_name?: string;
  workloads?: Workload[];
}

export interface Service {
  name: string;
  namespace: string;
}

/** Hubble's `flow.Layer7`: a parsed DNS or HTTP request/response. */
export interface Layer7 {
  type?: 'UNKNOWN_L7_TYPE' | 'REQUEST' | 'RESPONSE' | 'SAMPLE';
  latency_ns?: number;
  dns?: { query?: string; ips?: string[]; ttl?: number; cnames?: string[]; rcode?: number; qtypes?: string[]; rrtypes?: string[] };
  http?: { code?: number; method?: string; url?: string; protocol?: string; headers?: { key: string; value: string }[] };
}

/**
 * Tycho's extension to Hubble's Flow: the connection's conntrack counters at
 * this observation point when the event was raised, cumulative per
 * connection. Aggregators add deltas per connection (docs/contracts.md).
 */
export interface TrafficCounters {
  packets_fwd: number;
  bytes_fwd: number;
  packets_rev: number;
  bytes_rev: number;
}

/**
 * Hubble's `flow.Policy`: a policy that allowed or denied a flow. `labels`
 * are Cilium's derived policy labels (`k8s:io.cilium.k8s.policy.name=x`, …),
 * `revision` the policy revision the decision was made with.
 */
export interface FlowPolicy {
  name: string;
  namespace?: string;
  labels?: string[];
  revision?: number;
  kind?: string;
}

export interface Flow {
  time: string;
  uuid: string;
  verdict: Verdict;
  drop_reason?: number;
  IP?: { source: string; destination: string; ipVersion: IPVersion; source_xlated?: string };
  l4?: Layer4;
  source?: Endpoint;
  destination?: Endpoint;
  Type: FlowType;
  node_name: string;
  source_names?: string[];
  destination_names?: string[];
  is_reply?: boolean;
  event_type: { type: number; sub_type?: number };
  source_service?: Service;
  destination_service?: Service;
  traffic_direction?: TrafficDirection;
  /** Only on policy-verdict events (Cilium's PolicyMatch* values). */
  policy_match_type?: number;
  trace_observation_point?: TraceObservationPoint;
  drop_reason_desc?: string;
  interface?: { index: number; name?: string };
  l7?: Layer7;
  traffic?: TrafficCounters;
  /** The policies that allowed the flow out of its source (egress) / into its destination (ingress). */
  egress_allowed_by?: FlowPolicy[];
  ingress_allowed_by?: FlowPolicy[];
  /** The policies that denied it: deny rules, or the policies whose selection made the direction default-deny. */
  egress_denied_by?: FlowPolicy[];
  ingress_denied_by?: FlowPolicy[];
  Summary?: string;
}

const ICMPV4_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'EchoReply',
  3: 'DestinationUnreachable',
  5: 'Redirect',
  8: 'EchoRequest',
  11: 'TimeExceeded',
};

const ICMPV6_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'DestinationUnreachable',
  3: 'TimeExceeded',
  128: 'EchoRequest',
  129: 'EchoReply',
  133: 'RouterSolicitation',
  134: 'RouterAdvertisement',
  135: 'NeighborSolicitation',
  136: 'NeighborAdvertisement',
};

/** Hubble's one-line summary of the L4 header: `TCP Flags: SYN, ACK`, `UDP`, `ICMPv4 EchoRequest`. */
export function l4Summary(l4: Layer4 | undefined): string {
  if (l4?.TCP) return `TCP Flags: ${tcpFlagsSummary(l4.TCP.flags ?? {})}`;
  if (l4?.UDP) return 'UDP';
  if (l4?.ICMPv4) return `ICMPv4 ${ICMPV4_TYPE_NAMES[l4.ICMPv4.type ?? 0] ?? `Type${l4.ICMPv4.type ?? 0}`}`;
  if (l4?.ICMPv6) return `ICMPv6 ${ICMPV6_TYPE_NAMES[l4.ICMPv6.type ?? 0] ?? `Type${l4.ICMPv6.type ?? 0}`}`;
  return '';
}
