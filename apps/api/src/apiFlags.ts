import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_SOCKET_DIR, parseAgentAddress, type AgentAddress } from '@tycho/agent/client';

export const DEFAULT_PORT = 32321;
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

export const API_USAGE = `Usage: tycho-api [options]

Tycho's API and web app: follows every agent's flows, merges them by time,
aggregates the service map and serves REST, a live WebSocket stream and the
web app on one port.

Options:
  --port <n>            port to listen on (default ${DEFAULT_PORT})
  --host <addr>         address to listen on (default ${DEFAULT_HOST})
  --socket-dir <dir>    find agents as <dir>/<node>/agent.sock, re-scanned for new nodes
                        (default ${DEFAULT_SOCKET_DIR} unless --agent is given)
  --agent <name=url>    follow this agent; repeat for each node, e.g.
                        node-1=ws+unix:///run/tycho/node-1/agent.sock:/v1/observe
                        node-2=ws://10.0.0.5:4244/v1/observe
  --web-dir <dir>       the built web app (default ${DEFAULT_WEB_DIR})
  --kubeconfig <path>   kubeconfig of the Kubernetes API (namespaces, pods, policies), e.g.
                        /run/tycho/lab/kubeconfig; without it: $KUBECONFIG, else the pod's
                        service account (in-cluster), else ~/.kube/config, else none
                        (GET /api/v1/policies then answers 503)
  -h, --help            show this help
`;

export interface ApiConfig {
  port: number;
  host: string;
  socketDir: string | undefined;
  agents: AgentAddress[];
  webDir: string;
  kubeconfig: string | undefined;
}

export type ParsedApiFlags = { kind: 'help' } | { kind: 'error'; message: string } | { kind: 'config'; config: ApiConfig };

/** Parses the command line; every problem names the flag. */
export function parseApiFlags(argv: readonly string[]): ParsedApiFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'socket-dir': { type: 'string' },
        agent: { type: 'string', multiple: true },
        'web-dir': { type: 'string' },
        kubeconfig: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  if (values.kubeconfig === '') return { kind: 'error', message: '--kubeconfig: expected the path of a kubeconfig file' };
  const portText = values.port ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65_535) return { kind: 'error', message: `--port: '${portText}' is not a port (0-65535)` };
  const agents: AgentAddress[] = [];
  for (const text of values.agent ?? []) {
    try {
      agents.push(parseAgentAddress(text));
    } catch (err) {
      return { kind: 'error', message: `--agent: ${(err as Error).message}` };
    }
  }
  const duplicate = agents.find((agent, i) => agents.findIndex((other) => other.node === agent.node) !== i);
  if (duplicate) return { kind: 'error', message: `--agent: node '${duplicate.node}' is given twice` };
  const socketDir = values['socket-dir'] ?? (agents.length === 0 ? DEFAULT_SOCKET_DIR : undefined);
  return {
    kind: 'config',
    config: {
      port,
      host: values.host ?? DEFAULT_HOST,
      socketDir,
      agents,
      webDir: values['web-dir'] ?? DEFAULT_WEB_DIR,
      kubeconfig: values.kubeconfig,
    },
  };
}
