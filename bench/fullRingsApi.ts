// The setup the API load benchmarks share: two synthetic agents whose rings
// are full (2 × 4,095 held flows of one map shape), and the real API as its
// own process pinned to one CPU, following them.
import { DEFAULT_RING_CAPACITY, type GetFlowsResponse } from '@tycho/flow';
import type { BenchmarkContext } from './benchmark.ts';
import { getJson, startApiProcess, waitUntil, type ApiProcess } from './apiProcess.ts';
import { linkFlow, nodeName, type SyntheticMapShape } from './syntheticFlows.ts';
import { publishByNode, startSyntheticAgents, type SyntheticAgents } from './syntheticAgents.ts';

export const FULL_RINGS_API_CPU = 1;
export const FULL_RINGS_SHAPE: SyntheticMapShape = { cards: 200, links: 1000, namespaces: 20, nodes: 2 };
export const FULL_RINGS_HELD_FLOWS = FULL_RINGS_SHAPE.nodes * DEFAULT_RING_CAPACITY;

/**
 * Starts both agents and the API (stopped by the run's `defer`), the API with
 * further node flags if given (e.g. `--cpu-prof` when profiling a benchmark);
 * resolves once the API holds every flow, with how many it holds.
 */
export async function startFullRingsApi({
  log,
  defer,
  nodeFlags,
}: Pick<BenchmarkContext, 'log' | 'defer'> & { nodeFlags?: readonly string[] }): Promise<{ api: ApiProcess; cluster: SyntheticAgents; held: number }> {
  const cluster = await startSyntheticAgents([nodeName(0), nodeName(1)]);
  defer(() => cluster.close());
  const startMs = Date.now() - FULL_RINGS_HELD_FLOWS;
  publishByNode(cluster.agents, Array.from({ length: FULL_RINGS_HELD_FLOWS }, (_, i) => linkFlow(i % FULL_RINGS_SHAPE.links, FULL_RINGS_SHAPE, startMs + i, `held-${i}`)));
  const api = await startApiProcess({ agentFlags: cluster.agents.map((agent) => agent.agentFlag), cpu: FULL_RINGS_API_CPU, log, ...(nodeFlags ? { nodeFlags } : {}) });
  defer(() => api.stop());
  let held = 0;
  await waitUntil(async () => {
    held = (await getJson<{ flows: GetFlowsResponse[] }>(`${api.url}/api/v1/flows?number=${FULL_RINGS_HELD_FLOWS}`)).body.flows.length;
    return held === FULL_RINGS_HELD_FLOWS;
  }, `the API holding ${FULL_RINGS_HELD_FLOWS} flows`);
  return { api, cluster, held };
}
