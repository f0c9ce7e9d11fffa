// Child process of endpointAttach.test.ts, started inside the "host" network
// namespace with `ip netns exec`: attaches the endpoint programs to a veth,
// serves TCP on 8080 and reports, one JSON object per stdout line:
//   {ready: {ifindex, ingress, egress}}  program ids after attaching
//   {events: FlowEvent[]}                each ring-buffer batch
//   {detached: {ingress, egress}}        program ids after detaching ("detach" on stdin)
import { execFileSync } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

import { NodeDatapath } from './nodeDatapath.ts';
import { tcProgramId } from './tc.ts';

const [pinDir, ifname, listenAddress] = process.argv.slice(2);
if (!pinDir || !ifname || !listenAddress) throw new Error('usage: endpointAttach.fixture.ts <pinDir> <ifname> <listenAddress>');

const BPF_FS_MAGIC = 0xcafe4a11;
// `ip netns exec` gives this process its own /sys without bpffs; mount a
// private one (it goes away with this mount namespace).
if (statfsSync('/sys/fs/bpf').type !== BPF_FS_MAGIC) execFileSync('mount', ['-t', 'bpf', 'bpffs', '/sys/fs/bpf']);

const report = (message: object): void => {
  process.stdout.write(JSON.stringify(message) + '\n');
};

const ifindex = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8'));
const datapath = NodeDatapath.open({ pinDir });
datapath.onEvents((batch) => report({ events: batch.map((e) => ({ ...e, payload: undefined })) }));
// Twice: attaching again replaces the programs, as after an agent restart.
datapath.attachEndpoint(ifindex, { endpointId: 7, identity: 256, flags: 0 });
datapath.attachEndpoint(ifindex, { endpointId: 7, identity: 256, flags: 0 });

const server = createServer((socket) => socket.end('pong')).listen(8080, listenAddress, () => {
  report({ ready: { ifindex, ingress: tcProgramId(ifindex, 'ingress'), egress: tcProgramId(ifindex, 'egress') } });
});

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'detach') return;
  datapath.detachEndpoint(ifindex);
  datapath.detachEndpoint(ifindex); // idempotent
  report({ detached: { ingress: tcProgramId(ifindex, 'ingress'), egress: tcProgramId(ifindex, 'egress') } });
  server.close();
  datapath.close();
  NodeDatapath.removePins(pinDir);
  process.exit(0);
});
