// The socket load-balancer with real sockets. cgroup sock_addr programs cannot
// be run with BPF_PROG_TEST_RUN, so: a network namespace with three "pods"
// (TCP 8080 and UDP 5353 servers on local addresses) and a node address, a
// cgroup with bpf_sock.o's programs attached, services programmed from
// @tycho/services' model, and clients started inside that cgroup.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, rmdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildServiceModel, compileServiceMaps, endpointSlicesFromPods, diffServiceMaps, serviceMapOps, type ServiceMapEntries, type ServiceModel } from '@tycho/services';

import { ServiceDatapath, sockLinkDir } from './serviceDatapath.ts';
import type { Probe, ProbeResult } from './sockLb.fixture.ts';

const id = randomBytes(3).toString('hex');
const NS = `tycho-t-sock-${id}`;
const CGROUP = `/sys/fs/cgroup/unified/tycho-test-${id}`;
const PIN_DIR = `/sys/fs/bpf/tycho-test-sock-${id}`;
const NODE = 'test-node';
const NODE_IP = '10.98.0.254';
const POD_IPS = ['10.98.0.1', '10.98.0.2', '10.98.0.3'] as const;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./sockLb.fixture.ts', import.meta.url));

const EMPTY: ServiceMapEntries = { services: [], backends: [], revNat: [], maglev: [] };

function service(name: string, spec: V1Service['spec']): V1Service {
  return { metadata: { name, namespace: 'default' }, spec };
}

function pod(name: string, ip: string, app: string, ready = true): V1Pod {
  return {
    metadata: { name, namespace: 'default', labels: { app, pod: name } },
    spec: { nodeName: NODE, containers: [{ name: 'main', image: 'tycho/echo' }] },
    status: { podIP: ip, hostIP: NODE_IP, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

let services: V1Service[] = [
  service('echo', { clusterIP: '10.96.0.50', selector: { app: 'echo' }, ports: [{ port: 80, targetPort: 8080 }] }),
  service('dns', { clusterIP: '10.96.0.53', selector: { app: 'dns' }, ports: [{ port: 53, targetPort: 5353, protocol: 'UDP' }] }),
  service('sticky', {
    clusterIP: '10.96.0.60',
    selector: { app: 'echo' },
    sessionAffinity: 'ClientIP',
    ports: [{ port: 80, targetPort: 8080 }],
  }),
  service('empty', {
    clusterIP: '10.96.0.70',
    selector: { app: 'nobody' },
    ports: [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' },
    ],
  }),
  service('lb', {
    type: 'LoadBalancer',
    clusterIP: '10.96.0.100',
    externalIPs: ['192.0.2.200'],
    selector: { app: 'dns' },
    ports: [{ port: 80, targetPort: 8080, nodePort: 31001 }],
  }),
  service('long', { clusterIP: '10.96.0.90', selector: { app: 'echo' }, ports: [{ port: 81, targetPort: 8081 }] }),
  service('np', { type: 'NodePort', clusterIP: '10.96.0.80', selector: { app: 'dns' }, ports: [{ port: 80, targetPort: 8080, nodePort: 31000 }] }),
];
const nodes: V1Node[] = [{ metadata: { name: NODE }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } }];
const readyPods = (): V1Pod[] => [pod('pod-a', POD_IPS[0], 'echo'), pod('pod-b', POD_IPS[1], 'echo'), pod('pod-c', POD_IPS[2], 'dns')];

let server: ChildProcessWithoutNullStreams | undefined;
let datapath: ServiceDatapath | undefined;
let model: ServiceModel | undefined;
let entries: ServiceMapEntries = EMPTY;

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

/** Programs the maps for these pods, incrementally from what they hold. */
function program(pods: V1Pod[]): void {
  model = buildServiceModel({ services, endpointSlices: endpointSlicesFromPods(services, pods), nodes }, model ? { previous: model } : {});
  const next = compileServiceMaps(model, NODE);
  datapath!.apply(serviceMapOps(diffServiceMaps(entries, next)));
  entries = next;
}

/** Runs the probes from a client process inside the test cgroup and namespace. */
function probe(probes: Probe[]): ProbeResult[] {
  const script = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"';
  const out = execFileSync(
    'sh',
    ['-c', script, 'sh', CGROUP, 'nsenter', `--net=/run/netns/${NS}`, 'node', '--import', 'tsx', FIXTURE, 'probe', JSON.stringify(probes)],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { results: ProbeResult[] }).results;
}

/** A long-lived connection from a client in the test cgroup: `next()` sends a message and resolves with the answer. */
function holdConnection(address: string, port: number) {
  const script = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"';
  const child = spawn('sh', ['-c', script, 'sh', CGROUP, 'nsenter', `--net=/run/netns/${NS}`, 'node', '--import', 'tsx', FIXTURE, 'hold', address, String(port)], {
    cwd: REPO_ROOT,
  });
  const lines: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve(line);
    } else lines.push(line);
  });
  const read = (): Promise<{ peer?: string; answer?: string; error?: string }> =>
    new Promise((resolve) => {
      const line = lines.shift();
      if (line !== undefined) resolve(JSON.parse(line));
      else waiting = (next) => resolve(JSON.parse(next));
    });
  return {
    first: read,
    next: () => {
      child.stdin.write('\n');
      return read();
    },
    close: () => new Promise<void>((resolve) => {
      child.on('exit', () => resolve());
      child.stdin.end();
    }),
  };
}

const times = (n: number, p: Probe): Probe[] => Array.from({ length: n }, () => p);
const answers = (results: ProbeResult[]): string[] => results.map((r) => (r.ok ? r.answer : `error ${r.code}`));

beforeAll(async () => {
  ip('netns', 'add', NS);
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  for (const address of [...POD_IPS, NODE_IP]) ip('-n', NS, 'addr', 'add', `${address}/32`, 'dev', 'lo');
  mkdirSync(CGROUP);

  server = spawn('nsenter', [`--net=/run/netns/${NS}`, 'node', '--import', 'tsx', FIXTURE, 'serve', ...POD_IPS], { cwd: REPO_ROOT });
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    server!.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    server!.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('"ready"')) resolve();
    });
    server!.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });

  datapath = ServiceDatapath.open({ pinDir: PIN_DIR });
  datapath.attach(CGROUP);
  datapath.setNodeAddresses([{ address: NODE_IP, local: true }]);
  program(readyPods());
}, 60_000);

afterAll(() => {
  server?.kill();
  datapath?.close();
  ServiceDatapath.detach(PIN_DIR);
  rmSync(PIN_DIR, { recursive: true, force: true });
  if (existsSync(CGROUP)) rmdirSync(CGROUP);
  ip('netns', 'del', NS);
});

describe('socket load-balancing at the cgroup (bpf_sock.c)', () => {
  it('attaches one program per hook, pinned, and attaching again replaces them', () => {
    datapath!.attach(CGROUP);
    const ids = ServiceDatapath.attachedProgramIds(CGROUP);
    expect(Object.values(ids).map((list) => list.length)).toEqual([1, 1, 1, 1]);
    for (const hook of ['connect4', 'sendmsg4', 'recvmsg4', 'getpeername4']) expect(existsSync(`${sockLinkDir(PIN_DIR)}/${hook}`)).toBe(true);
  });

  it('connect() to a ClusterIP reaches every backend, and getpeername() returns the ClusterIP', () => {
    const results = probe(times(30, { kind: 'tcp', address: '10.96.0.50', port: 80 }));
    expect(results.every((r) => r.ok && r.peer === '10.96.0.50:80')).toBe(true);
    expect(new Set(answers(results))).toEqual(new Set([POD_IPS[0], POD_IPS[1]]));
  }, 30_000);

  it('UDP to a ClusterIP reaches the backend and the reply comes from the ClusterIP', () => {
    expect(probe([{ kind: 'udp', address: '10.96.0.53', port: 53 }])).toEqual([{ ok: true, peer: '10.96.0.53:53', answer: POD_IPS[2] }]);
  }, 30_000);

  it('a service without backends refuses TCP connect() and UDP sendto() with ECONNREFUSED', () => {
    expect(probe([{ kind: 'tcp', address: '10.96.0.70', port: 80 }])).toEqual([{ ok: false, code: 'ECONNREFUSED' }]);
    expect(probe([{ kind: 'udp', address: '10.96.0.70', port: 53 }])).toEqual([{ ok: false, code: 'ECONNREFUSED' }]);
  }, 30_000);

  it('ClientIP affinity keeps a client on one backend, remembered per network namespace', () => {
    const results = probe(times(20, { kind: 'tcp', address: '10.96.0.60', port: 80 }));
    expect(results.every((r) => r.ok && r.peer === '10.96.0.60:80')).toBe(true);
    expect(new Set(answers(results)).size).toBe(1);
    const sticky = model!.frontends.find((f) => f.serviceName === 'sticky')!;
    const remembered = [...datapath!.affinity.entries()].filter(([key]) => key.revNatIndex === sticky.id);
    expect(remembered).toHaveLength(1);
    expect(answers(results)[0]).toBe(entries.backends.find((b) => b.id === remembered[0]![1].backendId)!.address);
  }, 30_000);

  it('a node port is served on the node address and on 0.0.0.0, and getpeername() returns what was dialled', () => {
    const results = probe([
      { kind: 'tcp', address: NODE_IP, port: 31000 },
      { kind: 'tcp', address: '0.0.0.0', port: 31000 },
    ]);
    expect(results).toEqual([
      { ok: true, peer: `${NODE_IP}:31000`, answer: POD_IPS[2] },
      { ok: true, peer: '0.0.0.0:31000', answer: POD_IPS[2] },
    ]);
  }, 30_000);

  it('an external IP and a LoadBalancer address reach the backend', () => {
    const lbAddress = model!.frontends.find((f) => f.serviceName === 'lb' && f.type === 'LoadBalancer')!.address;
    expect(lbAddress).toMatch(/^203\.0\.113\.(1[2-9][0-9]|2[0-5][0-9])$/);
    expect(
      probe([
        { kind: 'tcp', address: '192.0.2.200', port: 80 },
        { kind: 'tcp', address: lbAddress, port: 80 },
      ]),
    ).toEqual([
      { ok: true, peer: '192.0.2.200:80', answer: POD_IPS[2] },
      { ok: true, peer: `${lbAddress}:80`, answer: POD_IPS[2] },
    ]);
  }, 30_000);

  it('leaves other addresses alone: a pod address directly, and a ClusterIP on a port it does not serve', () => {
    const results = probe([
      { kind: 'tcp', address: POD_IPS[0], port: 8080 },
      { kind: 'tcp', address: '10.96.0.50', port: 81 },
    ]);
    expect(results).toEqual([
      { ok: true, peer: `${POD_IPS[0]}:8080`, answer: POD_IPS[0] },
      { ok: false, code: 'ENETUNREACH' },
    ]);
  }, 30_000);

  it('a backend that turns unready stops getting connections once the maps are updated incrementally', () => {
    program([pod('pod-a', POD_IPS[0], 'echo'), pod('pod-b', POD_IPS[1], 'echo', false), pod('pod-c', POD_IPS[2], 'dns')]);
    const results = probe(times(20, { kind: 'tcp', address: '10.96.0.50', port: 80 }));
    expect(new Set(answers(results))).toEqual(new Set([POD_IPS[0]]));
    expect([...datapath!.backends.entries()].map(([, b]) => b.address)).not.toContain(POD_IPS[1]);
    program(readyPods());
  }, 30_000);

  it('a long-lived connection keeps its backend while the other backends change', async () => {
    const connection = holdConnection('10.96.0.90', 81);
    const first = await connection.first();
    expect(first.peer).toBe('10.96.0.90:81');
    const [kept, other] = first.answer === POD_IPS[0] ? [POD_IPS[0], POD_IPS[1]] : [POD_IPS[1], POD_IPS[0]];
    const podOf = (ip: string, ready: boolean) => pod(ip === POD_IPS[0] ? 'pod-a' : 'pod-b', ip, 'echo', ready);
    program([podOf(kept, true), podOf(other, false), pod('pod-c', POD_IPS[2], 'dns')]);
    expect(await connection.next()).toEqual({ peer: '10.96.0.90:81', answer: kept });
    program(readyPods());
    expect(await connection.next()).toEqual({ peer: '10.96.0.90:81', answer: kept });
    await connection.close();
  }, 30_000);

  it('ClientIP affinity lets go of a backend that left the service, even while another service still uses it', () => {
    // The backend the client keeps now (backend ids changed as pods came and went above).
    const [current] = probe([{ kind: 'tcp', address: '10.96.0.60', port: 80 }]);
    const kept = current!.ok ? current!.answer : '';
    const other = kept === POD_IPS[0] ? 'pod-b' : 'pod-a';
    const before = services;
    services = services.map((s) => (s.metadata?.name === 'sticky' ? { ...s, spec: { ...s.spec, selector: { pod: other } } } : s));
    program(readyPods());
    expect(entries.backends.map((b) => b.address)).toContain(kept);
    const results = probe(times(10, { kind: 'tcp', address: '10.96.0.60', port: 80 }));
    expect(new Set(answers(results))).toEqual(new Set([other === 'pod-a' ? POD_IPS[0] : POD_IPS[1]]));
    services = before;
    program(readyPods());
  }, 30_000);

  it('sync() makes the maps hold exactly the wanted entries, whatever they held', () => {
    const stale = { ...entries.services[0]!, key: { ...entries.services[0]!.key, address: '10.96.0.99' } };
    datapath!.services.set(stale.key, stale.value);
    const result = datapath!.sync(entries);
    expect(result.deleted).toBe(1);
    expect([...datapath!.services.keys()]).toHaveLength(entries.services.length);
  });

  it('detaching removes the programs and their pins, and the ClusterIP is an ordinary address again', () => {
    ServiceDatapath.detach(PIN_DIR);
    expect(Object.values(ServiceDatapath.attachedProgramIds(CGROUP)).flat()).toEqual([]);
    expect(existsSync(sockLinkDir(PIN_DIR))).toBe(false);
    expect(probe([{ kind: 'tcp', address: '10.96.0.50', port: 80 }])).toEqual([{ ok: false, code: 'ENETUNREACH' }]);
  }, 30_000);
});

describe('Maglev tables (tycho_lb4_maglev, read by bpf_host.c)', () => {
  /** Programs the maps with Maglev tables (M = 251), incrementally from what they hold. */
  function programMaglev(pods: V1Pod[]): void {
    model = buildServiceModel({ services, endpointSlices: endpointSlicesFromPods(services, pods), nodes }, model ? { previous: model } : {});
    const next = compileServiceMaps(model, NODE, { algorithm: 'maglev', maglevTableSize: 251 });
    datapath!.apply(serviceMapOps(diffServiceMaps(entries, next)));
    entries = next;
  }
  const installed = (): number[] => [...datapath!.maglev.keys()].sort((a, b) => a - b);

  it('apply() installs a table for each routable frontend with backends, and none for a ClusterIP', () => {
    programMaglev(readyPods());
    expect(entries.maglev.length).toBeGreaterThan(0);
    expect(installed()).toEqual(entries.maglev.map((e) => e.revNatIndex));
    for (const table of entries.maglev) expect(datapath!.maglevTable(table.revNatIndex)).toEqual(table.backendIds);
    const clusterIps = new Set(entries.services.filter((e) => e.value.flags.type === 'ClusterIP').map((e) => e.value.revNatIndex));
    expect(installed().filter((index) => clusterIps.has(index))).toEqual([]);
    const flagged = entries.services.filter((e) => e.key.backendSlot === 0 && datapath!.services.get(e.key)?.flags.maglev);
    expect(new Set(flagged.map((e) => e.value.revNatIndex))).toEqual(new Set(installed()));
  });

  it('apply() deletes the tables of a service that lost its backends, and writes them again when one comes back', () => {
    programMaglev(readyPods());
    const withTables = installed();
    programMaglev(readyPods().filter((p) => p.metadata?.name !== 'pod-c'));
    expect(installed()).toEqual([]);
    programMaglev(readyPods());
    expect(installed()).toEqual(withTables);
    for (const table of entries.maglev) expect(datapath!.maglevTable(table.revNatIndex)).toEqual(table.backendIds);
  });

  it('sync() removes tables nobody wants and installs the wanted ones; the random algorithm removes them all', () => {
    programMaglev(readyPods());
    datapath!.setMaglevTable(999, new Uint32Array(251).fill(1));
    const first = entries.maglev[0]!;
    datapath!.maglev.delete(first.revNatIndex);
    datapath!.sync(entries);
    expect(installed()).toEqual(entries.maglev.map((e) => e.revNatIndex));
    expect(datapath!.maglevTable(first.revNatIndex)).toEqual(first.backendIds);
    program(readyPods());
    expect(installed()).toEqual([]);
  });
});
