// Child process of the tcpRr benchmark, run in the bench node's network
// namespace: puts bench_empty.o (a tc program that only returns TC_ACT_OK) on
// pods' host veths through the datapath's own attach code, so a round with it
// costs what the hook costs and nothing of the flow logic. It also lists the
// programs on a veth's hooks, which only a process in the namespace can ask.
// Commands on stdin, one per line, each answered on stdout with one line:
//   attach tcx|clsact <ifindex>…   empty program on both hooks of each veth → ok
//   detach <ifindex>…              programs off both hooks → ok
//   programs <ifindex>             → JSON HookProgram[] (hookPrograms)
// or `error <why>`. argv[2] is a bpffs dir of its own for the tcx links.
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { BpfObject, attachEndpointPrograms, detachEndpointPrograms, hookPrograms, type HookKind } from '@tycho/datapath';

const EMPTY_OBJECT_PATH = fileURLToPath(new URL('../bpf/build/bench_empty.o', import.meta.url));

const pinDir = process.argv[2] ?? '';
if (pinDir === '') throw new Error('usage: emptyProgramAttacher.ts <pinDir>');
const empty = BpfObject.open(EMPTY_OBJECT_PATH);
const programFd = empty.programFd('bench_empty');

const ifindexesOf = (args: string[]): number[] => {
  const ifindexes = args.map(Number);
  if (ifindexes.length === 0 || ifindexes.some((i) => !Number.isInteger(i) || i <= 0)) throw new Error(`bad ifindexes '${args.join(' ')}'`);
  return ifindexes;
};

function handle(line: string): string {
  const [command, ...args] = line.trim().split(/\s+/);
  if (command === 'attach') {
    const [hook, ...rest] = args;
    if (hook !== 'tcx' && hook !== 'clsact') throw new Error(`attach takes tcx or clsact, got '${hook}'`);
    for (const ifindex of ifindexesOf(rest)) {
      attachEndpointPrograms(ifindex, { ingressFd: programFd, egressFd: programFd }, { pinDir, hook: hook as HookKind });
    }
    return 'ok';
  }
  if (command === 'detach') {
    for (const ifindex of ifindexesOf(args)) detachEndpointPrograms(ifindex, { pinDir });
    return 'ok';
  }
  if (command === 'programs') return JSON.stringify(hookPrograms(ifindexesOf(args)[0]!));
  throw new Error(`unknown command '${command}', expected attach, detach or programs`);
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    try {
      process.stdout.write(`${handle(line)}\n`);
    } catch (error) {
      process.stdout.write(`error ${(error as Error).message.replace(/\n/g, ' ')}\n`);
    }
  })
  .on('close', () => {
    empty.close();
    process.exit(0);
  });
process.stdout.write('ready\n');
