import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_RING_CAPACITY, isValidRingCapacity, parseDuration } from '@tycho/flow';
import { createFlowMetrics } from '@tycho/metrics';
import { DEFAULT_MAGLEV_TABLE_SIZE, MAGLEV_TABLE_SIZES } from '@tycho/services';
import { parseListenAddress, type ListenAddress } from './metricsServer.ts';

export const AGENT_USAGE = `Usage: tycho-agent --node <name> --socket <path> --pin-dir <dir> --state-dir <dir> [--kubeconfig <path>] [options]

Tycho's per-node agent: attaches the datapath to pods the CNI plugin registers,
turns datapath events into Hubble flows and serves them. Run it inside the
node's network namespace.

Required:
  --node <name>            name of this node (its Node object), e.g. node-1
  --socket <path>          unix socket for the agent API, e.g. /run/tycho/node-1/agent.sock
  --pin-dir <dir>          bpffs directory of this node's pinned maps, e.g. /sys/fs/bpf/tycho/node-1
  --state-dir <dir>        where endpoint state persists, e.g. /run/tycho/node-1

Options:
  --kubeconfig <path>      kubeconfig of the Kubernetes API the agent watches, e.g.
                           /run/tycho/lab/kubeconfig-nodes; without it: $KUBECONFIG, else the
                           pod's service account (in-cluster), else ~/.kube/config
  --ring-capacity <n>      flows kept for observe; 2^k-1 (default ${DEFAULT_RING_CAPACITY})
  --report-interval <dur>  how often long-lived connections are reported, 100ms to 24h (default 5s)
  --l7-ports <list>        ports whose payload is captured for L7, at most 8 (default 53,80,8080)
  --metrics <list>         Hubble metrics to serve, e.g. 'dns:query;ignoreAAAA,drop,tcp,flow,port-distribution,icmp,http'
  --metrics-listen <addr>  where GET /metrics is served, [host]:port (default :9965 with --metrics)
  --cgroup <dir>           cgroup v2 directory holding the node's pods and host processes, e.g.
                           /sys/fs/cgroup/unified/tycho/node-1: load-balances services at its sockets
                           (kube-proxy replacement); without it services are not handled
  --lb-device <ifname>     the node's uplink (in this network namespace), e.g. eth0: NodePort,
                           ExternalIPs and LoadBalancer traffic arriving on it is load-balanced per
                           packet at tc (needs --cgroup)
  --lb-algorithm <name>    backend choice for that traffic from outside: maglev (default; any node
                           sends a flow to the same backend) or random (Cilium's loadBalancer.algorithm);
                           sockets inside the cluster always pick at random
  --maglev-table-size <m>  Maglev table size per service, a prime: ${MAGLEV_TABLE_SIZES.join(', ')}
                           (default ${DEFAULT_MAGLEV_TABLE_SIZE})
  -h, --help               show this help
`;

const MAX_L7_PORTS = 8;
/**
 * --report-interval bounds: shorter, long-lived connections would be
 * reported nearly per packet; longer is no report at all in practice.
 */
const MIN_REPORT_INTERVAL_MS = 100;
const MAX_REPORT_INTERVAL_MS = 24 * 3_600_000;
/** How much of a bad value an error shows. */
const MAX_SHOWN_CHARS = 40;

const agentFlagsSchema = z.object({
  node: z.string({ error: '--node is required' }).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, '--node: expected a node name such as node-1'),
  socket: z.string({ error: '--socket is required' }).min(1),
  'pin-dir': z.string({ error: '--pin-dir is required' }).min(1),
  'state-dir': z.string({ error: '--state-dir is required' }).min(1),
  kubeconfig: z.string().min(1, '--kubeconfig: expected the path of a kubeconfig file').optional(),
  'ring-capacity': z
    .string()
    .default(String(DEFAULT_RING_CAPACITY))
    .transform((text, ctx) => {
      const n = Number(text);
      if (!/^\d+$/.test(text) || !isValidRingCapacity(n)) {
        ctx.addIssue({ code: 'custom', message: `--ring-capacity: ${text} is not allowed; use one less than a power of two up to 65535 (e.g. 1023, 4095, 16383)` });
        return z.NEVER;
      }
      return n;
    }),
  'report-interval': z
    .string()
    .default('5s')
    .transform((text, ctx) => {
      const shown = text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
      const duration = parseDuration(text);
      if (duration === undefined) {
        ctx.addIssue({ code: 'custom', message: `--report-interval: '${shown}' is not a duration; use e.g. 500ms, 5s, 1m` });
        return z.NEVER;
      }
      if (!('ms' in duration) || duration.ms < MIN_REPORT_INTERVAL_MS || duration.ms > MAX_REPORT_INTERVAL_MS) {
        ctx.addIssue({ code: 'custom', message: `--report-interval: '${shown}' is out of range; expected 100ms to 24h` });
        return z.NEVER;
      }
      // Whole milliseconds: the datapath takes whole nanoseconds, and 1.001s is 1000.9999… ms in floating point.
      return Math.round(duration.ms);
    }),
  'l7-ports': z
    .string()
    .default('53,80,8080')
    .transform((text, ctx) => {
      const parts = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
      const ports = parts.map(Number);
      const bad = parts.filter((part, i) => !/^\d+$/.test(part) || (ports[i] ?? 0) < 1 || (ports[i] ?? 0) > 65535);
      if (bad.length > 0 || ports.length > MAX_L7_PORTS) {
        ctx.addIssue({
          code: 'custom',
          message: `--l7-ports: expected up to ${MAX_L7_PORTS} comma-separated ports 1-65535, got '${text}'`,
        });
        return z.NEVER;
      }
      return [...new Set(ports)];
    }),
  metrics: z
    .string()
    .optional()
    .superRefine((text, ctx) => {
      if (text === undefined) return;
      try {
        createFlowMetrics(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `--metrics: ${(err as Error).message}` });
      }
    }),
  cgroup: z.string().min(1, '--cgroup: expected a cgroup v2 directory').optional(),
  'lb-device': z
    .string()
    .regex(/^[A-Za-z0-9_.@-]{1,15}$/, '--lb-device: expected an interface name such as eth0 (1-15 of A-Z a-z 0-9 _ . @ -)')
    .optional(),
  'lb-algorithm': z.enum(['random', 'maglev'], { error: (issue) => `--lb-algorithm: expected random or maglev, got '${String(issue.input)}'` }).default('maglev'),
  'maglev-table-size': z
    .string()
    .default(String(DEFAULT_MAGLEV_TABLE_SIZE))
    .transform((text, ctx) => {
      const size = Number(text);
      if (!/^\d+$/.test(text) || !(MAGLEV_TABLE_SIZES as readonly number[]).includes(size)) {
        ctx.addIssue({ code: 'custom', message: `--maglev-table-size: ${text} is not allowed; use one of Cilium's primes ${MAGLEV_TABLE_SIZES.join(', ')}` });
        return z.NEVER;
      }
      return size;
    }),
  'metrics-listen': z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      const address = parseListenAddress(text);
      if (!address) {
        ctx.addIssue({ code: 'custom', message: `--metrics-listen: '${text}' is not an address; use [host]:port, e.g. :9965 or 172.18.0.2:9965` });
        return z.NEVER;
      }
      return address;
    }),
});

export interface AgentConfig {
  nodeName: string;
  socketPath: string;
  pinDir: string;
  stateDir: string;
  /** The kubeconfig given with --kubeconfig; absent: found the Kubernetes way (loadKubeConfig). */
  kubeconfig?: string;
  ringCapacity: number;
  reportIntervalMs: number;
  l7Ports: number[];
  /** The Hubble metrics option string and where to serve it; absent without --metrics. */
  metrics?: { options: string; listen: ListenAddress };
  /** The node's cgroup v2 directory, where the socket load-balancer attaches; absent without --cgroup. */
  cgroup?: string;
  /** The node's uplink, where per-packet node-port load-balancing attaches; absent without --lb-device. */
  lbDevice?: string;
  /** Backend choice for traffic from outside (Maglev tables for routable frontends, or random). */
  lbAlgorithm: 'random' | 'maglev';
  /** Prime size M of each Maglev table. */
  maglevTableSize: number;
}

export const DEFAULT_METRICS_LISTEN: ListenAddress = { host: undefined, port: 9965 };

export type ParsedAgentFlags = { kind: 'help' } | { kind: 'config'; config: AgentConfig } | { kind: 'error'; message: string };

/** Reads the agent's command line; errors name the flag and what it expects. */
export function parseAgentFlags(argv: string[]): ParsedAgentFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        node: { type: 'string' },
        socket: { type: 'string' },
        'pin-dir': { type: 'string' },
        'state-dir': { type: 'string' },
        kubeconfig: { type: 'string' },
        'ring-capacity': { type: 'string' },
        'report-interval': { type: 'string' },
        'l7-ports': { type: 'string' },
        metrics: { type: 'string' },
        'metrics-listen': { type: 'string' },
        cgroup: { type: 'string' },
        'lb-device': { type: 'string' },
        'lb-algorithm': { type: 'string' },
        'maglev-table-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const parsed = agentFlagsSchema.safeParse(values);
  if (!parsed.success) return { kind: 'error', message: parsed.error.issues.map((issue) => issue.message).join('\n') };
  const flags = parsed.data;
  if (flags['metrics-listen'] && flags.metrics === undefined) {
    return { kind: 'error', message: '--metrics-listen: needs --metrics (the metrics to serve)' };
  }
  if (flags['lb-device'] !== undefined && flags.cgroup === undefined) {
    return { kind: 'error', message: '--lb-device: needs --cgroup (service load-balancing)' };
  }
  return {
    kind: 'config',
    config: {
      nodeName: flags.node,
      socketPath: flags.socket,
      pinDir: flags['pin-dir'],
      stateDir: flags['state-dir'],
      ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
      ringCapacity: flags['ring-capacity'],
      reportIntervalMs: flags['report-interval'],
      l7Ports: flags['l7-ports'],
      ...(flags.metrics === undefined ? {} : { metrics: { options: flags.metrics, listen: flags['metrics-listen'] ?? DEFAULT_METRICS_LISTEN } }),
      ...(flags.cgroup === undefined ? {} : { cgroup: flags.cgroup }),
      ...(flags['lb-device'] === undefined ? {} : { lbDevice: flags['lb-device'] }),
      lbAlgorithm: flags['lb-algorithm'],
      maglevTableSize: flags['maglev-table-size'],
    },
  };
}
