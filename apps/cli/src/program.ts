import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_SOCKET_DIR } from '@tycho/agent/client';
import { loadLab, type LabApi } from './labCommands.ts';
import { runObserve, type ObserveIo } from './observeCommand.ts';
import { DEFAULT_LAST, OUTPUT_FORMATS, parseCount, type ObserveFlags } from './observeOptions.ts';
import { createFilterBuilder, EVENT_TYPE_NAMES, type FilterFlag } from './flowFilterFlags.ts';
import { DEFAULT_API_SERVER, runNodes, runStatus } from './statusCommand.ts';
import { addPolicyCommand } from './policyCommand.ts';
import { addServiceCommand } from './serviceCommand.ts';

/** The longest `connectivity test --timeout`: a day is far beyond any check's start-up, and keeps the deadline a real time. */
const MAX_TIMEOUT_SECONDS = 86_400;

export interface CliIo extends ObserveIo {
  lab?: () => Promise<LabApi>;
}

/** The `tycho` command line. */
export function createProgram(io: CliIo): Command {
  const program = new Command('tycho')
    .description('Tycho: eBPF networking and flow observability for Kubernetes, with a two-node lab on this machine')
    .version('0.1.0')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  const lab = io.lab ?? loadLab;

  const labCommand = program.command('lab').description('run the lab: two nodes, a world network and the demo workloads in network namespaces');
  labCommand
    .command('up')
    .description('create the lab, start the agents and apply the manifests (default: kube-dns and connectivity-check)')
    .option('--detach', 'return once the lab is running instead of staying in the foreground')
    .option('-f, --manifests <files...>', 'manifests to apply instead of the defaults')
    .action(async (options: { detach?: boolean; manifests?: string[] }) => {
      await (await lab()).labUp({
        ...(options.manifests ? { manifests: options.manifests } : {}),
        ...(options.detach ? { detach: true } : {}),
      });
    });
  labCommand
    .command('down')
    .description('stop the lab and remove everything it created (namespaces, pins, cgroups, /run/tycho)')
    .action(async () => {
      await (await lab()).labDown();
    });
  labCommand
    .command('status')
    .description('show nodes, agents and pods of the running lab')
    .action(async () => {
      io.stdout(`${await (await lab()).labStatus()}\n`);
    });

  program
    .command('connectivity')
    .description('check the cluster network end to end (like cilium connectivity test)')
    .command('test')
    .description('wait for the connectivity-check workload of the running lab to pass, print its Deployments and a summary; exit 1 when a check fails')
    .option('-n, --namespace <namespace>', 'namespace whose Deployments are the checks', 'default')
    .addOption(new Option('--timeout <seconds>', `how long to wait for every check to pass, at most ${MAX_TIMEOUT_SECONDS}`).default(60).argParser(parseSeconds))
    .addHelpText(
      'after',
      `
Each Deployment of the namespace is a check; it passes when all its replicas are
READY. The probes of the connectivity-check make an HTTP GET every few seconds and
are ready while it has the expected outcome: answered, or refused by policy for
pod-to-a-l3-denied-cnp. A failed check is listed with its probe's last outcome.`,
    )
    .action(async (options: { namespace: string; timeout: number }) => {
      const report = await (await lab()).connectivityTest({ namespace: options.namespace, timeoutMs: options.timeout * 1000 });
      io.stdout(`${report.text}\n`);
      if (!report.passed) throw new CommanderError(1, 'tycho.connectivityFailed', 'connectivity test failed');
    });

  const filters = createFilterBuilder();
  const observe = program
    .command('observe')
    .description('print flows from the node agents, like hubble observe')
    .addOption(new Option('--last <n>', `the last N flows (default ${DEFAULT_LAST} unless --first, --all, --follow, --since or --until)`).argParser(parseCount()))
    .addOption(new Option('--first <n>', 'the first N flows').argParser(parseCount()))
    .option('--all', 'every flow the agents hold')
    .option('-f, --follow', 'keep printing new flows as they are observed')
    .option('--since <time>', 'flows since a time: a duration ago (30s, 5m, 1h) or RFC 3339')
    .option('--until <time>', 'flows until a time: a duration ago (30s, 5m, 1h) or RFC 3339')
    .addOption(new Option('-o, --output <format>', 'compact, json and jsonpb (a GetFlowsResponse per line), dict (KEY: value blocks), table (not with --follow)').choices(OUTPUT_FORMATS).default('compact'))
    .option('--print-node-name', 'show the node name in compact, dict and table output')
    .option('--node <name>', 'only ask this node\'s agent (repeatable; default: every agent found)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--socket-dir <dir>', 'where agent sockets are: <dir>/<node>/agent.sock', DEFAULT_SOCKET_DIR);

  const filterOption = (flags: string, description: string, flag: FilterFlag) => {
    observe.addOption(new Option(flags, description).helpGroup('Filters:'));
    observe.on(`option:${flag}`, (value: string | boolean) => filters.set(flag, typeof value === 'string' ? value : ''));
  };
  filterOption('--not', 'the next filter flag excludes what it matches (goes to the blacklist)', 'not');
  const directional = (flag: string, argument: string, what: string) => {
    filterOption(`--${flag} <${argument}>`, `flows from or to ${what} (repeatable; values are ORed)`, flag as FilterFlag);
    filterOption(`--from-${flag} <${argument}>`, `flows from ${what}`, `from-${flag}` as FilterFlag);
    filterOption(`--to-${flag} <${argument}>`, `flows to ${what}`, `to-${flag}` as FilterFlag);
  };
  directional('pod', '[namespace/]pod', 'pods whose name starts with this (no namespace = default)');
  filterOption('-n, --namespace <namespace>', 'flows from or to pods and services of this namespace', 'namespace');
  filterOption('--from-namespace <namespace>', 'flows from this namespace', 'from-namespace');
  filterOption('--to-namespace <namespace>', 'flows to this namespace', 'to-namespace');
  directional('ip', 'ip|cidr', 'this IP address or CIDR');
  directional('label', 'selector', 'endpoints matching this label selector (k8s:app=echo-a, "app in (a,b)")');
  directional('fqdn', 'name', 'this DNS name (* wildcards)');
  directional('service', '[namespace/]service', 'this service');
  directional('workload', '[kind/]name', 'this workload (Deployment/echo-a)');
  directional('identity', 'identity', 'this security identity (a number or host, world, remote-node, …)');
  directional('port', 'port', 'this L4 port');
  filterOption('--verdict <verdict>', 'FORWARDED, DROPPED, ERROR, AUDIT, REDIRECTED, TRACED or TRANSLATED', 'verdict');
  filterOption('-t, --type <type[:subtype]>', `event type: ${Object.keys(EVENT_TYPE_NAMES).join(', ')} or a number, with a sub-type such as trace:to-endpoint or drop:133`, 'type');
  filterOption('--protocol <protocol>', 'tcp, udp, icmp, icmpv4, icmpv6, dns or http', 'protocol');
  filterOption('--http-status <code>', 'HTTP status: 404, 4+ (any 4xx) or 40+ (400-409)', 'http-status');
  filterOption('--http-method <method>', 'HTTP method (GET, POST, …)', 'http-method');
  filterOption('--http-path <regex>', 'regular expression over the HTTP path', 'http-path');
  filterOption('--tcp-flags <flags>', 'TCP flags that must all be set, comma separated (SYN, SYN,ACK, FIN, RST, …)', 'tcp-flags');
  filterOption('--node-name <glob>', 'flows observed on nodes matching this name (node-*)', 'node-name');
  filterOption('-4, --ipv4', 'IPv4 flows only', 'ipv4');
  filterOption('-6, --ipv6', 'IPv6 flows only', 'ipv6');
  observe
    .addHelpText(
      'after',
      `
Filters: values of one flag are ORed, different flags are ANDed; a flag without
from-/to- (--pod x) matches either side: source x OR destination x. --not sends
the next filter flag to the blacklist (flows matching it are left out).

Examples:
  tycho observe                                   the last ${DEFAULT_LAST} flows of every node
  tycho observe --since 5m -o json                flows of the last five minutes as JSON
  tycho observe -f --node node-1                  follow node-1's flows
  tycho observe --pod default/pod-to-a --verdict DROPPED
  tycho observe -n kube-system --not --protocol dns
  tycho observe --type trace:to-endpoint -o table --print-node-name`,
    )
    .action(async (flags: ObserveFlags) => {
      await runObserve({ ...flags, filters: filters.result() }, io);
    });

  program
    .command('status')
    .description('health of the API and the node agents, with flow counts (like hubble status / cilium status)')
    .option('--server <url>', 'the Tycho API to ask first; the agents are asked directly when it does not answer', DEFAULT_API_SERVER)
    .option('--socket-dir <dir>', 'where agent sockets are: <dir>/<node>/agent.sock', DEFAULT_SOCKET_DIR)
    .action(async (options: { server: string; socketDir: string }) => {
      await runStatus(options, io);
    });

  program
    .command('nodes')
    .description('list the nodes with their state and flow counts (like hubble list nodes)')
    .option('--server <url>', 'the Tycho API to ask first; the agents are asked directly when it does not answer', DEFAULT_API_SERVER)
    .option('--socket-dir <dir>', 'where agent sockets are: <dir>/<node>/agent.sock', DEFAULT_SOCKET_DIR)
    .action(async (options: { server: string; socketDir: string }) => {
      await runNodes(options, io);
    });

  addPolicyCommand(program, io);
  addServiceCommand(program, io);

  return program;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || seconds <= 0 || seconds > MAX_TIMEOUT_SECONDS) {
    throw new InvalidArgumentError(`expected a positive number of seconds up to ${MAX_TIMEOUT_SECONDS} (24h), got '${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`);
  }
  return seconds;
}
