import type { IPVersion, TCPFlags, TrafficDirection, Verdict } from '@tycho/flow';

/** Hubble's `flow.EventTypeFilter`: a monitor event type, and its sub-type when given. */
export interface EventTypeFilter {
  type: number;
  sub_type?: number;
}

/** Hubble's `flow.Workload` as a filter: name, kind or both must match one of the endpoint's workloads. */
export interface WorkloadFilter {
  name?: string;
  kind?: string;
}

/**
 * Hubble's `flow.FlowFilter`, with its JSON field names. Every field is a
 * list: a flow matches the filter when, for every field that is set, it
 * matches at least one of the field's values.
 */
export interface FlowFilter {
  uuid?: string[];
  /** IP addresses or CIDRs. */
  source_ip?: string[];
  destination_ip?: string[];
  /** `[namespace/]podNamePrefix`; `namespace/` selects the whole namespace; no namespace means `default`. */
  source_pod?: string[];
  destination_pod?: string[];
  /** Label selectors (`k8s:app=x`, `app in (a,b)`, `!key`, comma = AND). */
  source_label?: string[];
  destination_label?: string[];
  /** DNS names with `*` wildcards. */
  source_fqdn?: string[];
  destination_fqdn?: string[];
  /** `[namespace/]serviceNamePrefix`, as for pods. */
  source_service?: string[];
  destination_service?: string[];
  source_workload?: WorkloadFilter[];
  destination_workload?: WorkloadFilter[];
  source_identity?: number[];
  destination_identity?: number[];
  verdict?: Verdict[];
  event_type?: EventTypeFilter[];
  /** `404`, `4+` (any 4xx), `40+` (400–409). */
  http_status_code?: string[];
  http_method?: string[];
  /** Regular expressions over the URL path. */
  http_path?: string[];
  /** tcp, udp, icmp, icmpv4, icmpv6, dns, http. */
  protocol?: string[];
  source_port?: string[];
  destination_port?: string[];
  /** Each entry matches when all of its flags are set. */
  tcp_flags?: TCPFlags[];
  /** Regular expressions over the DNS query. */
  dns_query?: string[];
  /** Globs over the node name (`node-*`). */
  node_name?: string[];
  ip_version?: IPVersion[];
  traffic_direction?: TrafficDirection[];
  reply?: boolean[];
}

export type FlowFilterField = keyof FlowFilter;

export const FLOW_FILTER_FIELDS = [
  'uuid',
  'source_ip',
  'destination_ip',
  'source_pod',
  'destination_pod',
  'source_label',
  'destination_label',
  'source_fqdn',
  'destination_fqdn',
  'source_service',
  'destination_service',
  'source_workload',
  'destination_workload',
  'source_identity',
  'destination_identity',
  'verdict',
  'event_type',
  'http_status_code',
  'http_method',
  'http_path',
  'protocol',
  'source_port',
  'destination_port',
  'tcp_flags',
  'dns_query',
  'node_name',
  'ip_version',
  'traffic_direction',
  'reply',
] as const satisfies readonly FlowFilterField[];

export const FILTER_PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv4', 'icmpv6', 'dns', 'http'] as const;
export type FilterProtocol = (typeof FILTER_PROTOCOLS)[number];
