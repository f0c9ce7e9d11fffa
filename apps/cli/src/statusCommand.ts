import { AgentStatusTimeout, fetchAgentStatus, findAgentSockets, unixAgent } from '@tycho/agent/client';
import { z } from 'zod';
import { formatNodes, formatStatus, type ClusterHealth, type NodeHealth } from './clusterHealth.ts';
import type { ObserveIo } from './observeCommand.ts';
import { fetchAllAgentServices, formatKubeProxyReplacement } from './serviceCommand.ts';

export const DEFAULT_API_SERVER = 'http://localhost:32321';
const TIMEOUT_MS = 2000;

const nodeSchema = z.object({
  name: z.string(),
  state: z.enum(['CONNECTED', 'UNAVAILABLE', 'ERROR']),
  num_flows: z.number().optional(),
  max_flows: z.number().optional(),
  seen_flows: z.number().optional(),
  uptime_ns: z.number().optional(),
  error: z.string().optional(),
});
const nodesSchema = z.object({ nodes: z.array(nodeSchema) });
const statusSchema = z.object({ flows_per_second: z.number(), uptime_ns: z.number() });

export interface HealthSource {
  server: string;
  socketDir: string;
}

/** Asks the API; when it does not answer, asks every agent under the socket directory. */
export async function collectHealth(source: HealthSource): Promise<ClusterHealth> {
  const url = source.server.replace(/\/+$/, '');
  try {
    const [status, nodes] = await Promise.all([getJson(`${url}/api/v1/status`, statusSchema), getJson(`${url}/api/v1/nodes`, nodesSchema)]);
    return { api: { url, ok: true, uptimeNs: status.uptime_ns }, via: 'api', nodes: nodes.nodes, flowsPerSecond: status.flows_per_second };
  } catch (err) {
    const nodes = await askAgents(source.socketDir);
    return { api: { url, ok: false, error: (err as Error).message }, via: { socketDir: source.socketDir }, nodes };
  }
}

async function askAgents(socketDir: string): Promise<NodeHealth[]> {
  const agents = findAgentSockets(socketDir);
  return Promise.all(
    agents.map(async (agent): Promise<NodeHealth> => {
      try {
        const status = await fetchAgentStatus(unixAgent(agent.node, agent.socketPath), TIMEOUT_MS);
        return { name: agent.node, state: 'CONNECTED', num_flows: status.num_flows, max_flows: status.max_flows, seen_flows: status.seen_flows, uptime_ns: status.uptime_ns };
      } catch (err) {
        // A socket that takes the request but gives no answer in time is a busy agent (Degraded), not a missing one.
        return { name: agent.node, state: err instanceof AgentStatusTimeout ? 'ERROR' : 'UNAVAILABLE', error: (err as Error).message };
      }
    }),
  );
}

async function getJson<T>(url: string, schema: z.ZodType<T>): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(cause?.code ?? cause?.message ?? (err as Error).message);
  }
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new Error(`GET ${url} did not answer a Tycho API response`);
  return parsed.data;
}

/** `tycho status`; fails (after printing) when no node agent answered. */
export async function runStatus(source: HealthSource, io: ObserveIo): Promise<void> {
  const [health, services] = await Promise.all([collectHealth(source), fetchAllAgentServices(source.socketDir)]);
  io.stdout(`${formatStatus(health)}\n${formatKubeProxyReplacement(services)}\n`);
  if (!health.nodes.some((node) => node.state === 'CONNECTED')) throw new Error('no node agent answered');
}

/** `tycho nodes`; fails when neither the API nor any agent answered. */
export async function runNodes(source: HealthSource, io: ObserveIo): Promise<void> {
  const health = await collectHealth(source);
  if (!health.api.ok && health.nodes.length === 0) {
    throw new Error(`neither the API (${health.api.url}: ${health.api.error}) nor any agent in ${source.socketDir} answered`);
  }
  if (!health.api.ok) io.stderr(`tycho nodes: the API did not answer (${health.api.error}); asked the agents directly\n`);
  io.stdout(`${formatNodes(health.nodes)}\n`);
}
