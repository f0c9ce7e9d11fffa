import { alignColumns } from '@tycho/flow';

/** A node as `tycho status` and `tycho nodes` show it (the API's `GET /api/v1/nodes` entry). */
export interface NodeHealth {
  name: string;
  state: 'CONNECTED' | 'UNAVAILABLE' | 'ERROR';
  num_flows?: number;
  max_flows?: number;
  seen_flows?: number;
  uptime_ns?: number;
  error?: string;
}

/** What `tycho status` found: the API (or why it did not answer) and the nodes, through the API or from the agents. */
export interface ClusterHealth {
  api: { url: string; ok: true; uptimeNs: number } | { url: string; ok: false; error: string };
  /** Where the node list came from. */
  via: 'api' | { socketDir: string };
  nodes: NodeHealth[];
  /** From the API (over recent flow times); undefined when asking agents directly. */
  flowsPerSecond?: number;
}

/**
 * ERROR is Hubble's NODE_ERROR: the agent is there (its socket or stream is
 * up) but does not answer or answers an error, e.g. its status not within
 * the timeout; shown as Degraded, never as Ok.
 */
const STATE_NAMES: Record<NodeHealth['state'], string> = { CONNECTED: 'Connected', UNAVAILABLE: 'Unavailable', ERROR: 'Degraded' };

/** Flows held and capacity summed over connected nodes, as Hubble Relay sums them. */
export function totalFlows(nodes: readonly NodeHealth[]): { current: number; max: number; seen: number } {
  const connected = nodes.filter((node) => node.state === 'CONNECTED');
  const sum = (pick: (node: NodeHealth) => number | undefined) => connected.reduce((total, node) => total + (pick(node) ?? 0), 0);
  return { current: sum((n) => n.num_flows), max: sum((n) => n.max_flows), seen: sum((n) => n.seen_flows) };
}

/** Seen flows over uptime: Hubble's flows/s when the server gives no rate. */
function nodeFlowsPerSecond(node: NodeHealth): number | undefined {
  if (node.state !== 'CONNECTED' || !node.uptime_ns || node.seen_flows === undefined) return undefined;
  return node.seen_flows / (node.uptime_ns / 1e9);
}

function flowsLine(current: number, max: number, perSecond: number | undefined): string {
  const ratio = max > 0 ? ` (${((current / max) * 100).toFixed(2)}%)` : '';
  return `Current/Max Flows: ${current}/${max}${ratio}, Flows/s: ${perSecond === undefined ? 'N/A' : perSecond.toFixed(2)}`;
}

/**
 * `tycho status`: the API line, the `Hubble: Ok   Current/Max Flows: …`
 * line of `cilium status`, connected/unavailable nodes as `hubble status`
 * prints them, and one line per agent.
 */
export function formatStatus(health: ClusterHealth): string {
  const lines: string[] = [];
  const api = health.api;
  if (api.ok) lines.push(`API: Ok   ${api.url}, uptime ${formatAge(api.uptimeNs)}`);
  else {
    const where = health.via === 'api' ? '' : `; asked the agents in ${health.via.socketDir} directly`;
    lines.push(`API: Unreachable   ${api.url}: ${api.error}${where}`);
  }
  const connected = health.nodes.filter((node) => node.state === 'CONNECTED');
  const unavailable = health.nodes.filter((node) => node.state !== 'CONNECTED');
  const totals = totalFlows(health.nodes);
  const perSecond =
    health.flowsPerSecond ??
    (connected.length > 0 ? connected.reduce((sum, node) => sum + (nodeFlowsPerSecond(node) ?? 0), 0) : undefined);
  if (connected.length > 0) lines.push(`Hubble: Ok   ${flowsLine(totals.current, totals.max, perSecond)}`);
  else lines.push(`Hubble: Unavailable   no node agent answered`);
  lines.push(`Connected Nodes: ${connected.length}/${health.nodes.length}`);
  if (unavailable.length > 0) {
    lines.push(`Unavailable Nodes: ${unavailable.length}`, ...unavailable.map((node) => `  - ${node.name}`).sort());
  }
  if (health.nodes.length > 0) {
    lines.push('Agents:');
    for (const node of health.nodes) {
      if (node.state === 'CONNECTED') {
        lines.push(`  ${node.name}: Ok   ${flowsLine(node.num_flows ?? 0, node.max_flows ?? 0, nodeFlowsPerSecond(node))}, Uptime: ${formatAge(node.uptime_ns ?? 0)}`);
      } else {
        lines.push(`  ${node.name}: ${STATE_NAMES[node.state]}${node.error ? `   ${node.error}` : ''}`);
      }
    }
  }
  return lines.join('\n');
}

/** `tycho nodes`: the columns of `hubble list nodes`. */
export function formatNodes(nodes: readonly NodeHealth[]): string {
  const rows = [...nodes]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((node) => {
      if (node.state !== 'CONNECTED') return [node.name, STATE_NAMES[node.state], 'N/A', 'N/A', 'N/A'];
      const current = node.num_flows ?? 0;
      const max = node.max_flows ?? 0;
      const ratio = max > 0 ? ((current / max) * 100).toFixed(2).padStart(6) : '  0.00';
      return [node.name, STATE_NAMES[node.state], formatAge(node.uptime_ns ?? 0), (nodeFlowsPerSecond(node) ?? 0).toFixed(2), `${current}/${max} (${ratio}%)`];
    });
  return alignColumns([['NAME', 'STATUS', 'AGE', 'FLOWS/S', 'CURRENT/MAX-FLOWS'], ...rows]);
}

/** Kubernetes-style age: `45s`, `3m20s`, `5h2m`, `2d3h`. */
export function formatAge(ns: number): string {
  const seconds = Math.floor(ns / 1e9);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d${hours % 24}h`;
}
