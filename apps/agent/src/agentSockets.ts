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
