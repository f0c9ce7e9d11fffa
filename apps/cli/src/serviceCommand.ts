import { request } from 'node:http';
import { type Command, Option } from 'commander';
import { DEFAULT_SOCKET_DIR, findAgentSockets, type AgentSocket } from '@tycho/agent/client';
import { formatServiceList, type ServiceListRow } from '@tycho/services';
import { z } from 'zod';
import { selectAgentSockets } from './agentSockets.ts';
import type { ObserveIo } from './observeCommand.ts';

const TIMEOUT_MS = 2000;
const SERVICES_PATH = '/v1/services';

const protocolSchema = z.enum(['TCP', 'UDP', 'SCTP']);
const rowSchema = z.object({
  id: z.number(),
  frontend: z.object({ address: z.string(), port: z.number(), protocol: protocolSchema }),
  type: z.enum(['ClusterIP', 'NodePort', 'ExternalIPs', 'LoadBalancer']),
  backends: z.array(z.object({ slot: z.number(), address: z.string(), port: z.number() })),
});
/** An agent's `GET /v1/services` (apps/agent/src/servicesController.ts, ServicesStatus). */
const servicesStatusSchema = z.object({
  node_name: z.string(),
  kube_proxy_replacement: z.object({ socketLB: z.boolean(), cgroup: z.string().optional(), nodePortFromOutside: z.boolean(), lbDevice: z.string().optional(), lbAlgorithm: z.enum(['random', 'maglev']).optional() }),
  services: z.array(rowSchema),
  revision: z.number(),
  error: z.string().optional(),
});
export type AgentServices = z.infer<typeof servicesStatusSchema>;

/** One agent's answer, or why there is none. */
export type AgentServicesResult = { node: string; ok: true; services: AgentServices } | { node: string; ok: false; error: string };

/** `GET /v1/services` on an agent's unix socket, validated. */
export function fetchAgentServices(agent: AgentSocket, timeoutMs = TIMEOUT_MS): Promise<AgentServicesResult> {
  return new Promise((resolve) => {
    const fail = (error: string) => resolve({ node: agent.node, ok: false, error });
    const req = request({ socketPath: agent.socketPath, path: SERVICES_PATH, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          return fail(`${SERVICES_PATH} answered ${res.statusCode} with something that is not JSON`);
        }
        if (res.statusCode !== 200) {
          const error = (json as { error?: unknown }).error;
          return fail(typeof error === 'string' ? error : `${SERVICES_PATH} answered ${res.statusCode}`);
        }
        const parsed = servicesStatusSchema.safeParse(json);
        if (!parsed.success) return fail(`${SERVICES_PATH} did not answer a service list`);
        resolve({ node: agent.node, ok: true, services: parsed.data });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => fail(`cannot reach ${agent.socketPath}: ${err.message}`));
    req.end();
  });
}

/** Every agent's service list under `socketDir` (none when no agent is there). */
export function fetchAllAgentServices(socketDir: string): Promise<AgentServicesResult[]> {
  return Promise.all(findAgentSockets(socketDir).map((agent) => fetchAgentServices(agent)));
}

const HANDLED = 'ClusterIP, NodePort, ExternalIPs and LoadBalancer at the socket (connect/sendmsg/recvmsg/getpeername) for pods and host-network processes';
const PER_PACKET =
  'NodePort, ExternalIPs and LoadBalancer traffic arriving from the network translated per packet at tc (DNAT, reverse NAT, SNAT to remote backends)';
const NOT_HANDLED = 'NodePort, ExternalIPs and LoadBalancer traffic arriving from outside the node (per-packet DNAT at tc) is not handled yet';

/**
 * The `KubeProxyReplacement:` line of `tycho status` (`cilium status`): True
 * when every agent handles every service path, Partial when the agents do
 * socket-level load-balancing only (listing what is and is not handled),
 * False when none does.
 */
export function formatKubeProxyReplacement(results: readonly AgentServicesResult[]): string {
  const socketLb = results.filter((r) => r.ok && r.services.kube_proxy_replacement.socketLB).map((r) => r.node);
  const full = results.filter((r) => r.ok && r.services.kube_proxy_replacement.socketLB && r.services.kube_proxy_replacement.nodePortFromOutside);
  const without = results.filter((r) => !socketLb.includes(r.node)).map((r) => (r.ok ? `${r.node}: not enabled` : `${r.node}: ${r.error}`));
  const missing = without.length > 0 ? `; not on ${without.join(', ')}` : '';
  if (results.length === 0) return 'KubeProxyReplacement:   Unknown   [no node agent answered]';
  if (socketLb.length === 0) return `KubeProxyReplacement:   False   [${without.join('; ')}]`;
  // Each uplink with its backend choice, e.g. `node-1 eth0 (maglev)`.
  const devices = full.map((r) => {
    if (!r.ok) return r.node;
    const { lbDevice, lbAlgorithm } = r.services.kube_proxy_replacement;
    return `${r.node} ${lbDevice ?? '?'}${lbAlgorithm ? ` (${lbAlgorithm})` : ''}`;
  });
  if (full.length === results.length) return `KubeProxyReplacement:   True   [${HANDLED}; ${PER_PACKET} on ${devices.join(', ')}]`;
  if (full.length > 0) {
    const notFull = socketLb.filter((node) => !full.some((r) => r.node === node));
    return `KubeProxyReplacement:   Partial   [${HANDLED} on ${socketLb.join(', ')}${missing}; ${PER_PACKET} on ${devices.join(', ')}; not on ${notFull.join(', ')}]`;
  }
  return `KubeProxyReplacement:   Partial   [${HANDLED} on ${socketLb.join(', ')}${missing}; ${NOT_HANDLED}]`;
}

interface ServiceListFlags {
  node: string[];
  socketDir: string;
  output: 'table' | 'json';
  protocols?: boolean;
}

/** `tycho service list`: each agent's frontends and backends, as `cilium service list`. */
export async function runServiceList(flags: ServiceListFlags, io: ObserveIo): Promise<void> {
  const agents = selectAgentSockets(flags.socketDir, flags.node);
  const results = await Promise.all(agents.map((agent) => fetchAgentServices(agent)));
  if (flags.output === 'json') {
    io.stdout(`${JSON.stringify(results.map((r) => (r.ok ? r.services : { node_name: r.node, error: r.error })), null, 2)}\n`);
  } else {
    const headed = results.length > 1;
    results.forEach((result, i) => {
      if (headed) io.stdout(`${i > 0 ? '\n' : ''}Node: ${result.node}\n`);
      if (!result.ok) return io.stderr(`tycho service list: ${result.node}: ${result.error}\n`);
      if (result.services.error) io.stderr(`tycho service list: ${result.node}: ${result.services.error} (listing the last good model)\n`);
      const rows: ServiceListRow[] = result.services.services;
      io.stdout(formatServiceList(rows, { protocols: flags.protocols ? 'always' : 'ambiguous' }));
    });
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length === results.length) throw new Error(`no agent listed its services (${failed.map((r) => (r.ok ? '' : `${r.node}: ${r.error}`)).join('; ')})`);
}

/** Registers `tycho service list`. */
export function addServiceCommand(program: Command, io: ObserveIo): void {
  const service = program.command('service').description('the services the node agents load-balance (like cilium service list)');
  service
    .command('list')
    .description('list every service frontend a node serves with its backends, by service id (rev-NAT index)')
    .option('--node <name...>', 'only these nodes (default: every agent under --socket-dir)', [])
    .option('--socket-dir <dir>', 'where agent sockets are: <dir>/<node>/agent.sock', DEFAULT_SOCKET_DIR)
    .addOption(new Option('-o, --output <format>', 'table (as cilium service list) or json (the agents\' answers)').choices(['table', 'json']).default('table'))
    .option('--protocols', 'show /PROTO after every frontend (default: only where one address:port has two protocols)')
    .addHelpText(
      'after',
      `
Columns: ID (the service id, also its rev-NAT index), Frontend (address:port; 0.0.0.0 and
node addresses for node ports), Service Type (ClusterIP, NodePort, ExternalIPs,
LoadBalancer) and Backend (slot => pod address:port; none while no pod is ready).
An externalTrafficPolicy: Local frontend lists the node's own backends.

Examples:
  tycho service list
  tycho service list --node tycho-node-1 --protocols
  tycho service list -o json`,
    )
    .action(async (flags: ServiceListFlags) => {
      await runServiceList(flags, io);
    });
}
