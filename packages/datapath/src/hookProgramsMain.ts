// Prints the programs on an interface's tc hooks as JSON (hookPrograms):
//   node --import tsx packages/datapath/src/hookProgramsMain.ts <interface>
// e.g. [{"hook":"tcx","direction":"ingress","id":12,"name":"from_container"}, …].
// tc and bpftool 7.1 cannot show tcx links per interface; this can. Hooks
// belong to a network namespace: run it inside the interface's, with
// `nsenter --net=/run/netns/<name>` (or `ip netns exec <name>`).
import { execFileSync } from 'node:child_process';

import { hookPrograms } from './endpointHooks.ts';

const name = process.argv[2];
if (!name) {
  process.stderr.write('usage: hookProgramsMain.ts <interface>\n');
  process.exit(2);
}

let ifindex: number;
try {
  const [link] = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'dev', name], { encoding: 'utf8' })) as { ifindex: number }[];
  if (!link) throw new Error('ip listed no interface');
  ifindex = link.ifindex;
} catch (error) {
  process.stderr.write(`hookProgramsMain: no interface '${name}' in this network namespace: ${(error as Error).message}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify(hookPrograms(ifindex))}\n`);
