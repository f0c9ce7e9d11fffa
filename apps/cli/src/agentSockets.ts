import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_SOCKET_DIR = '/run/tycho';

export interface AgentSocket {
  node: string;
  socketPath: string;
}

/** Agents on this machine: every `<socketDir>/<node>/agent.sock`, by node name. */
export function findAgentSockets(socketDir: string): AgentSocket[] {
  let entries: string[];
  try {
    entries = readdirSync(socketDir);
  } catch {
    return [];
  }
  return entries
    .map((node) => ({ node, socketPath: join(socketDir, node, 'agent.sock') }))
    .filter((agent) => existsSync(agent.socketPath))
    .sort((a, b) => a.node.localeCompare(b.node));
}

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
