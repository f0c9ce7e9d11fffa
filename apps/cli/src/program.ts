import { Command, Option } from 'commander';
import { DEFAULT_SOCKET_DIR } from '@tycho/agent/client';
import { loadLab, type LabApi } from './labCommands.ts';
import { runObserve, type ObserveIo } from './observeCommand.ts';
import { DEFAULT_LAST, parseCount, type ObserveFlags } from './observeOptions.ts';

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
    .command('observe')
    .description('print flows from the node agents, like hubble observe')
    .addOption(new Option('--last <n>', `the last N flows (default ${DEFAULT_LAST} unless --first, --all, --follow, --since or --until)`).argParser(parseCount()))
    .addOption(new Option('--first <n>', 'the first N flows').argParser(parseCount()))
    .option('--all', 'every flow the agents hold')
    .option('-f, --follow', 'keep printing new flows as they are observed')
    .option('--since <time>', 'flows since a time: a duration ago (30s, 5m, 1h) or RFC 3339')
    .option('--until <time>', 'flows until a time: a duration ago (30s, 5m, 1h) or RFC 3339')
    .option('--node <name>', 'only this node (repeatable; default: every agent found)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--socket-dir <dir>', 'where agent sockets are: <dir>/<node>/agent.sock', DEFAULT_SOCKET_DIR)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['compact', 'json']).default('compact'))
    .option('--print-node-name', 'show the node name in compact output')
    .addHelpText(
      'after',
      `
Examples:
  tycho observe                          the last ${DEFAULT_LAST} flows of every node
  tycho observe --since 5m -o json       flows of the last five minutes as JSON
  tycho observe -f --node node-1         follow node-1's flows`,
    )
    .action(async (flags: ObserveFlags) => {
      await runObserve(flags, io);
    });

  return program;
}
