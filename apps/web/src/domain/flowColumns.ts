import { tcpFlagsSummary, type Endpoint, type Flow } from '@tycho/flow';
import { formatL7Info } from './l7Info.ts';
import { flowPolicyCell } from './policyDisplay.ts';

/** The flows table's columns, Hubble UI's, and how each reads a flow. */

export const FLOW_COLUMNS = [
  { id: 'sourcePod', label: 'Source Pod' },
  { id: 'sourceIp', label: 'Source IP' },
  { id: 'sourceIdentity', label: 'Source Identity' },
  { id: 'destinationPod', label: 'Destination Pod' },
  { id: 'destinationIp', label: 'Destination IP' },
  { id: 'destinationIdentity', label: 'Destination Identity' },
  { id: 'destinationPort', label: 'Destination Port' },
  { id: 'l7', label: 'L7 info' },
  { id: 'direction', label: 'Direction' },
  { id: 'verdict', label: 'Verdict' },
  { id: 'policy', label: 'Policy' },
  { id: 'tcpFlags', label: 'TCP Flags' },
  { id: 'timestamp', label: 'Timestamp' },
] as const;

export type FlowColumnId = (typeof FLOW_COLUMNS)[number]['id'];

/** Hubble UI shows all but the IPs at first; Tycho adds the policy that allowed or denied the flow, which Hubble UI cannot show. */
export const DEFAULT_COLUMNS: readonly FlowColumnId[] = [
  'sourcePod', 'sourceIdentity', 'destinationPod', 'destinationIdentity', 'destinationPort', 'l7', 'verdict', 'policy', 'timestamp',
];

export function isFlowColumnId(value: string): value is FlowColumnId {
  return FLOW_COLUMNS.some((column) => column.id === value);
}

/** `default/echo-a-6d9c`, else the identity's reserved label (`reserved:world`), else empty. */
function podOf(endpoint: Endpoint | undefined): string {
  if (endpoint?.pod_name) return endpoint.namespace ? `${endpoint.namespace}/${endpoint.pod_name}` : endpoint.pod_name;
  const reserved = endpoint?.labels?.find((label) => label.startsWith('reserved:'));
  return reserved ?? '';
}

function identityOf(endpoint: Endpoint | undefined): string {
  return endpoint?.identity !== undefined ? String(endpoint.identity) : '';
}

function destinationPortOf(flow: Flow): string {
  const l4 = flow.l4;
  if (l4?.TCP) return `${l4.TCP.destination_port ?? 0}`;
  if (l4?.UDP) return `${l4.UDP.destination_port ?? 0}`;
  return '';
}

/** `HTTP/1.1 200 GET /public · 3 ms`, `DNS www.google.com. A`, or empty. */
export function l7InfoOf(flow: Flow): string {
  return formatL7Info(flow.l7);
}

function directionOf(flow: Flow): string {
  const direction = flow.traffic_direction;
  return direction === 'INGRESS' ? 'ingress' : direction === 'EGRESS' ? 'egress' : '';
}

/** `Jan 1, 00:20:34.567` in the browser's time zone. */
export function formatFlowTime(time: string): string {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return time;
  const date = new Date(ms);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const month = date.toLocaleString('en-US', { month: 'short' });
  return `${month} ${date.getDate()}, ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function flowCell(flow: Flow, column: FlowColumnId): string {
  switch (column) {
    case 'sourcePod': return podOf(flow.source);
    case 'sourceIp': return flow.IP?.source ?? '';
    case 'sourceIdentity': return identityOf(flow.source);
    case 'destinationPod': return podOf(flow.destination);
    case 'destinationIp': return flow.IP?.destination ?? '';
    case 'destinationIdentity': return identityOf(flow.destination);
    case 'destinationPort': return destinationPortOf(flow);
    case 'l7': return l7InfoOf(flow);
    case 'direction': return directionOf(flow);
    case 'verdict': return flow.verdict;
    case 'policy': return flowPolicyCell(flow);
    case 'tcpFlags': return flow.l4?.TCP?.flags ? tcpFlagsSummary(flow.l4.TCP.flags) : '';
    case 'timestamp': return formatFlowTime(flow.time);
  }
}
