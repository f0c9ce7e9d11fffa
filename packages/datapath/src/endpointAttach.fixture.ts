// Child process of endpointAttach.test.ts, started inside the "host" network
// namespace with `ip netns exec`: attaches the endpoint programs to a veth,
// serves TCP on 8080 and reports, one JSON object per stdout line:
//   {ready: {ifindex, programs}}        the veth's hook programs after attaching
//   {events: FlowEvent[]}               each ring-buffer batch
//   {restarted: {closed, reattached}}   programs after closing the datapath, and after
//                                       a new one attached again ("restart" on stdin)
//   {reused: {programs}}                programs on a spare veth after it was deleted and
//                                       made again with the same ifindex ("reuse" on stdin)
//   {detached: {programs, linkDirExists}}  after detaching ("detach" on stdin)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

import { endpointLinkDir, hookPrograms } from './endpointHooks.ts';
import { NodeDatapath } from './nodeDatapath.ts';

const [pinDir = '', ifname = '', listenAddress = ''] = process.argv.slice(2);
if (!pinDir || !ifname || !listenAddress) throw new Error('usage: endpointAttach.fixture.ts <pinDir> <ifname> <listenAddress>');

const BPF_FS_MAGIC = 0xcafe4a11;
// `ip netns exec` gives this process its own /sys without bpffs; mount a
// private one (it goes away with this mount namespace, and with it the pins).
if (statfsSync('/sys/fs/bpf').type !== BPF_FS_MAGIC) execFileSync('mount', ['-t', 'bpf', 'bpffs', '/sys/fs/bpf']);

const report = (message: object): void => {
  process.stdout.write(JSON.stringify(message) + '\n');
};

const ENDPOINT = { endpointId: 7, identity: 256, flags: 0 };
const SPARE_IF = 'tdp-spare';
const SPARE_IFINDEX = 4242;
const ifindex = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8'));
let datapath = NodeDatapath.open({ pinDir });
datapath.onEvents((batch) => report({ events: batch.map((e) => ({ ...e, payload: undefined })) }));
// Twice: attaching again replaces the programs, as after an agent restart.
datapath.attachEndpoint(ifindex, ENDPOINT);
datapath.attachEndpoint(ifindex, ENDPOINT);

const server = createServer((socket) => socket.end('pong')).listen(8080, listenAddress, () => {
  report({ ready: { ifindex, programs: hookPrograms(ifindex) } });
});

function restart(): void {
  // Stands in for an agent restart: the old datapath's fds are all closed first.
  datapath.close();
  const closed = hookPrograms(ifindex);
  datapath = NodeDatapath.open({ pinDir });
  datapath.attachEndpoint(ifindex, ENDPOINT);
  report({ restarted: { closed, reattached: hookPrograms(ifindex) } });
}

function reuseIfindex(): void {
  const addSpare = (): void => {
    execFileSync('ip', ['link', 'add', SPARE_IF, 'index', String(SPARE_IFINDEX), 'type', 'veth', 'peer', 'name', `${SPARE_IF}-peer`]);
  };
  addSpare();
  datapath.attachEndpoint(SPARE_IFINDEX, ENDPOINT);
  // Deleting the interface leaves its links defunct, still pinned.
  execFileSync('ip', ['link', 'del', SPARE_IF]);
  addSpare();
  datapath.attachEndpoint(SPARE_IFINDEX, ENDPOINT);
  const programs = hookPrograms(SPARE_IFINDEX);
  datapath.detachEndpoint(SPARE_IFINDEX);
  execFileSync('ip', ['link', 'del', SPARE_IF]);
  report({ reused: { programs } });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'restart') restart();
  if (line === 'reuse') reuseIfindex();
  if (line !== 'detach') return;
  datapath.detachEndpoint(ifindex);
  datapath.detachEndpoint(ifindex); // idempotent
  report({ detached: { programs: hookPrograms(ifindex), linkDirExists: existsSync(endpointLinkDir(pinDir, ifindex)) } });
  server.close();
  datapath.close();
  NodeDatapath.removePins(pinDir);
  process.exit(0);
});
