// Agents without a datapath for the API benchmarks: the agent's real API
// server and Observer on temporary unix sockets, fed by publishing flows
// into the observer (where the agent's flow enricher would put them).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiServer, Observer } from '@tycho/agent';
import { observeUrl, unixAgent, type AgentAddress } from '@tycho/agent/client';
import type { Flow } from '@tycho/flow';

export interface SyntheticAgent {
  readonly node: string;
  readonly address: AgentAddress;
  readonly observer: Observer;
  /** `name=ws+unix://…` as the API's `--agent` flag takes it. */
  readonly agentFlag: string;
}

export interface SyntheticAgents {
  readonly agents: SyntheticAgent[];
  close(): Promise<void>;
}

/** Starts one agent API server per node name, each on `<tmp>/<node>/agent.sock`. */
export async function startSyntheticAgents(nodes: readonly string[], ringCapacity?: number): Promise<SyntheticAgents> {
  const dir = mkdtempSync(join(tmpdir(), 'tycho-bench-agents-'));
  const servers: ReturnType<typeof createApiServer>[] = [];
  const agents: SyntheticAgent[] = [];
  try {
    for (const node of nodes) {
      const observer = new Observer({ nodeName: node, ...(ringCapacity !== undefined ? { ringCapacity } : {}) });
      const server = createApiServer({
        observer,
        endpoints: {
          register: () => {
            throw new Error('synthetic agents have no endpoints');
          },
          deregister: () => {},
          list: () => [],
        },
      });
      const socketPath = join(dir, node, 'agent.sock');
      mkdirSync(join(dir, node), { recursive: true });
      await server.listen(socketPath);
      servers.push(server);
      const address = unixAgent(node, socketPath);
      agents.push({ node, address, observer, agentFlag: `${node}=${observeUrl(address)}` });
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    agents,
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Publishes each flow into the agent of its `node_name`. */
export function publishByNode(agents: readonly SyntheticAgent[], flows: Iterable<Flow>): number {
  const byNode = new Map(agents.map((agent) => [agent.node, agent]));
  let published = 0;
  for (const flow of flows) {
    const agent = byNode.get(flow.node_name);
    if (!agent) throw new Error(`flow ${flow.uuid} is for node '${flow.node_name}', which has no synthetic agent (have ${[...byNode.keys()].join(', ')})`);
    agent.observer.publish(flow);
    published++;
  }
  return published;
}
