// Child processes of serviceDatapath.test.ts, started in the test's network
// namespace with `nsenter --net`:
//   serve <addr>...            TCP on <addr>:8080 and UDP on <addr>:5353, each answering
//                              with the address it serves, and TCP on <addr>:8081 answering
//                              every message with that address (long-lived); prints {ready: true}
//   probe <json Probe[]>       (inside the test cgroup) performs each probe and prints
//                              one JSON line {results: ProbeResult[]}
//   hold <addr> <port>         (inside the test cgroup) one long-lived TCP connection: prints
//                              {peer, answer} after connecting and again for every stdin line
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';

export type Probe = { kind: 'tcp' | 'udp'; address: string; port: number };
export type ProbeResult =
  | { ok: true; peer: string; answer: string }
  | { ok: false; code: string };

const [mode, ...args] = process.argv.slice(2);

function serve(addresses: string[]): void {
  let pending = addresses.length * 3;
  const ready = (): void => {
    if (--pending === 0) process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  };
  for (const address of addresses) {
    createServer((socket) => socket.end(address)).listen(8080, address, ready);
    createServer((socket) => socket.on('data', () => socket.write(address))).listen(8081, address, ready);
    const udp = createSocket('udp4');
    udp.on('message', (_msg, rinfo) => udp.send(address, rinfo.port, rinfo.address));
    udp.bind(5353, address, ready);
  }
}

function tcpProbe(probe: Probe): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: probe.address, port: probe.port });
    let answer = '';
    let peer = '';
    socket.setTimeout(3000, () => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    socket.on('connect', () => {
      // getpeername(2), through the getpeername4 hook.
      peer = `${socket.remoteAddress}:${socket.remotePort}`;
    });
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve({ ok: true, peer, answer }));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? error.message }));
  });
}

function udpProbe(probe: Probe): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => finish({ ok: false, code: 'ETIMEDOUT' }), 3000);
    const finish = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    // recvmsg(2), through the recvmsg4 hook: rinfo is the reply's source.
    socket.on('message', (msg, rinfo) => finish({ ok: true, peer: `${rinfo.address}:${rinfo.port}`, answer: msg.toString() }));
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, code: error.code ?? error.message }));
    // An unconnected sendto(2), through the sendmsg4 hook.
    socket.send('?', probe.port, probe.address, (error) => {
      if (error) finish({ ok: false, code: (error as NodeJS.ErrnoException).code ?? error.message });
    });
  });
}

async function probeAll(probes: Probe[]): Promise<void> {
  const results: ProbeResult[] = [];
  for (const probe of probes) results.push(await (probe.kind === 'tcp' ? tcpProbe(probe) : udpProbe(probe)));
  process.stdout.write(JSON.stringify({ results }) + '\n');
}

function hold(address: string, port: number): void {
  const socket = connect({ host: address, port });
  const ask = (): void => void socket.write('?');
  socket.on('connect', ask);
  socket.on('data', (chunk) => {
    process.stdout.write(JSON.stringify({ peer: `${socket.remoteAddress}:${socket.remotePort}`, answer: chunk.toString() }) + '\n');
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    process.stdout.write(JSON.stringify({ error: error.code ?? error.message }) + '\n');
    process.exit(1);
  });
  createInterface({ input: process.stdin }).on('line', ask).on('close', () => socket.destroy());
}

if (mode === 'serve') serve(args);
else if (mode === 'hold') hold(args[0] ?? '', Number(args[1]));
else if (mode === 'probe') await probeAll(JSON.parse(args[0] ?? '[]') as Probe[]);
else throw new Error('usage: sockLb.fixture.ts serve <addr>... | probe <json>');
