import { join } from 'node:path';
import { findAgentSockets, type AgentSocket } from '@tycho/agent/client';

/** The agents to ask: the named nodes, or all found; errors say what exists. */
export function selectAgentSockets(socketDir: string, nodes: readonly string[]): AgentSocket[] {
  const found = findAgentSockets(socketDir);
  if (found.length === 0) {
    throw new Error(`no agents found: nothing matches ${join(socketDir, '*', 'agent.sock')}; is the lab up (tycho lab up)?`);
  }
  if (nodes.length === 0) return found;
  return nodes.map((node) => {
    const agent = found.find((candidate) => candidate.node === node);
    if (!agent) throw new Error(`no agent for node '${node}' at ${join(socketDir, node, 'agent.sock')}; agents found: ${found.map((a) => a.node).join(', ')}`);
    return agent;
  });
}
