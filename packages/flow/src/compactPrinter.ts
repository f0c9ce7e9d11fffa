import { dropReasonDescription, MonitorEventType, policyMatchTypeName, TRACE_SUB_TYPE_NAMES, type Endpoint, type Flow } from './flow.ts';
import type { GetFlowsResponse } from './observerApi.ts';
import { reservedIdentityName, MIN_WORKLOAD_IDENTITY } from './reservedIdentity.ts';

export interface CompactPrintOptions {
  /** Insert ` [node]` after the time, as `--print-node-name` does. */
  printNodeName?: boolean;
  /** Zone the time is shown in; Hubble uses the local zone. */
  timeZone?: 'local' | 'utc';
}

/**
 * One response in `hubble observe`'s compact layout:
 * `Jan  1 00:20:34.567: default/a:51234 (ID:12345) -> default/b:8080 (ID:23456) to-endpoint FORWARDED (TCP Flags: SYN)`.
 * Replies are printed from the client's side with `<-`; `<>` when the direction is unknown.
 */
export function formatCompact(response: GetFlowsResponse, options: CompactPrintOptions = {}): string {
  if (response.lost_events) {
    const lost = response.lost_events;
    return `EVENTS LOST: ${lost.source} CPU(${lost.cpu ?? 0}) ${lost.num_events_lost}`;
  }
  const flow = response.flow;
  const node = options.printNodeName ? ` [${flow.node_name}]` : '';
  let src = `${endpointAddress(flow, 'source')} ${formatIdentity(flow.source)}`;
  let dst = `${endpointAddress(flow, 'destination')} ${formatIdentity(flow.destination)}`;
  let arrow = '->';
  if (flow.is_reply === undefined) {
    arrow = '<>';
  } else if (flow.is_reply) {
    [src, dst] = [dst, src];
    arrow = '<-';
  }
  const time = formatStampMilli(flow.time, options.timeZone ?? 'local');
  return `${time}${node}: ${src} ${arrow} ${dst} ${flowTypeLabel(flow)} ${flow.verdict} (${flow.Summary ?? ''})`;
}

/**
 * TYPE column: the trace point (`to-endpoint`), for drops the reason
 * (`Policy denied`), for L7 the protocol and message kind (`dns-request`,
 * `http-response`), for policy verdicts match, direction and outcome
 * (`policy-verdict:L3-L4 EGRESS ALLOWED`).
 */
export function flowTypeLabel(flow: Flow): string {
  const subType = flow.event_type.sub_type ?? 0;
  switch (flow.event_type.type) {
    case MonitorEventType.TRACE:
      return TRACE_SUB_TYPE_NAMES[subType] ?? String(subType);
    case MonitorEventType.DROP:
      return dropReasonDescription(subType);
    case MonitorEventType.L7:
      return l7TypeLabel(flow);
    case MonitorEventType.POLICY_VERDICT:
      return policyVerdictLabel(flow);
    default:
      return 'UNKNOWN';
  }
}

function policyVerdictLabel(flow: Flow): string {
  const direction = flow.traffic_direction ?? 'TRAFFIC_DIRECTION_UNKNOWN';
  const outcome = flow.verdict === 'DROPPED' ? 'DENIED' : flow.verdict === 'AUDIT' ? 'AUDITED' : 'ALLOWED';
  return `policy-verdict:${policyMatchTypeName(flow.policy_match_type ?? 0)} ${direction} ${outcome}`;
}

function l7TypeLabel(flow: Flow): string {
  const protocol = flow.l7?.dns ? 'dns' : flow.l7?.http ? 'http' : 'l7';
  const kind = flow.l7?.type === 'REQUEST' || flow.l7?.type === 'RESPONSE' ? flow.l7.type.toLowerCase() : 'unknown';
  return `${protocol}-${kind}`;
}

export function endpointAddress(flow: Flow, side: 'source' | 'destination'): string {
  const ip = side === 'source' ? flow.IP?.source : flow.IP?.destination;
  if (ip === undefined) return '';
  const endpoint = flow[side];
  const service = side === 'source' ? flow.source_service : flow.destination_service;
  const names = side === 'source' ? flow.source_names : flow.destination_names;
  let host = ip;
  if (endpoint?.pod_name) host = joinNamespace(endpoint.namespace, endpoint.pod_name);
  else if (service?.name) host = joinNamespace(service.namespace, service.name);
  else if (names && names.length > 0) host = names.join(',');
  const port = side === 'source' ? sourcePort(flow) : destinationPort(flow);
  if (!port) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function joinNamespace(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function sourcePort(flow: Flow): number | undefined {
  return flow.l4?.TCP?.source_port ?? flow.l4?.UDP?.source_port;
}

function destinationPort(flow: Flow): number | undefined {
  return flow.l4?.TCP?.destination_port ?? flow.l4?.UDP?.destination_port;
}

function formatIdentity(endpoint: Endpoint | undefined): string {
  const identity = endpoint?.identity ?? 0;
  if (identity === 0) return '(unknown)';
  if (identity < MIN_WORKLOAD_IDENTITY) return `(${reservedIdentityName(identity) ?? identity})`;
  return `(ID:${identity})`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** Go's `time.StampMilli` layout, `Jan _2 15:04:05.000`. */
export function formatStampMilli(timestamp: string, zone: 'local' | 'utc'): string {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return 'N/A';
  const utc = zone === 'utc';
  const month = MONTHS[utc ? date.getUTCMonth() : date.getMonth()];
  const day = String(utc ? date.getUTCDate() : date.getDate()).padStart(2, ' ');
  const hh = String(utc ? date.getUTCHours() : date.getHours()).padStart(2, '0');
  const mm = String(utc ? date.getUTCMinutes() : date.getMinutes()).padStart(2, '0');
  const ss = String(utc ? date.getUTCSeconds() : date.getSeconds()).padStart(2, '0');
  const ms = String(date.getUTCMilliseconds()).padStart(3, '0');
  return `${month} ${day} ${hh}:${mm}:${ss}.${ms}`;
}
