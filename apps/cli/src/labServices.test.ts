import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { DEFAULT_MAGLEV_TABLE_SIZE, backendKey, maglevFlowHash, maglevTable } from '@tycho/services';
import { readLabState, WORLD_HOSTS, WORLD_NETNS, WORLD_ROUTER_IP, type LabState } from '@tycho/lab';
import { kubectl, run, tycho } from './labTestSupport.ts';

/** Writes the objects into the lab's Kubernetes API, as `kubectl apply -f` does. */
async function kubectlApply(...objects: (V1Service | V1EndpointSlice)[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tycho-lab-services-'));
  try {
    const file = join(dir, 'objects.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    await kubectl(['apply', '-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `kubectl delete --ignore-not-found` of `service/NAME`, `endpointslice/NAME`, … in the default namespace. */
async function kubectlDelete(...refs: string[]): Promise<void> {
  await kubectl(['delete', '--ignore-not-found', '-n', 'default', ...refs]);
}

/**
 * A hand-made EndpointSlice of a Service (as for a selector-less Service:
 * the lab's writer keeps slices only for the manifests' Services), every
 * endpoint ready, on the Service's one port 8080 (named as the Service names it).
 */
function endpointSlice(name: string, service: string, endpoints: readonly { ip: string; node: string; pod: string }[], portName = ''): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: endpoints.map((endpoint) => ({
      addresses: [endpoint.ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: endpoint.node,
      targetRef: { kind: 'Pod', namespace: 'default', name: endpoint.pod },
    })),
    ports: [{ name: portName, port: 8080, protocol: 'TCP' }],
  };
}

/*
 * Service load-balancing in the lab, without kube-proxy: a pod and a
 * host-network process reach services through the socket load-balancer
 * (bpf_sock.c on each node's cgroup), DNS goes to the kube-dns ClusterIP,
 * and no node namespace holds an iptables or nftables rule for a service.
 */

const NODE_CGROUP_ROOT = '/sys/fs/cgroup/unified/tycho';

/** An HTTP GET printing the status and getpeername() of the connection, as JSON. */
const HTTP_PROBE = `const http = require('node:http');
const [host, port] = process.argv.slice(1);
http.get({ host, port, path: '/public', timeout: 5000 }, (res) => {
  console.log(JSON.stringify({ status: res.statusCode, peer: res.socket.remoteAddress + ':' + res.socket.remotePort }));
  res.resume();
}).on('error', (e) => console.log(JSON.stringify({ error: e.code })));`;

/** HTTP_PROBE that also prints which echo server answered (its `x-served-by` header: the pod name). */
const SERVED_BY_PROBE = `const http = require('node:http');
const [host, port] = process.argv.slice(1);
http.get({ host, port, path: '/public', timeout: 5000 }, (res) => {
  console.log(JSON.stringify({ status: res.statusCode, servedBy: res.headers['x-served-by'], peer: res.socket.remoteAddress + ':' + res.socket.remotePort }));
  res.resume();
}).on('error', (e) => console.log(JSON.stringify({ error: e.code })));`;

/**
 * One keep-alive HTTP connection (an Agent with a single socket) that sends a
 * request every 500 ms, so the server's idle timeout never closes it. Each
 * line on stdin starts a new phase ("mark"); every answer is printed as JSON
 * with its mark and the number of the socket it came over (a new socket
 * would get the next number). stdin's end stops it.
 */
const LONG_LIVED_PROBE = `const http = require('node:http');
const [host, port] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const sockets = new WeakMap();
let opened = 0, mark = 0, ended = false;
require('node:readline').createInterface({ input: process.stdin }).on('line', () => { mark += 1; }).on('close', () => { ended = true; });
function request() {
  const m = mark;
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/public', agent, timeout: 5000 }, (res) => {
      const { socket } = res; // handed back to the agent at 'end'
      const answer = { mark: m, status: res.statusCode, servedBy: res.headers['x-served-by'], socket: sockets.get(socket), local: socket.localPort, peer: socket.remoteAddress + ':' + socket.remotePort };
      res.resume();
      res.on('end', () => resolve(answer));
    });
    req.on('socket', (s) => { if (!sockets.has(s)) sockets.set(s, ++opened); });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => resolve({ mark: m, error: e.code }));
  });
}
(async () => {
  while (!ended) {
    console.log(JSON.stringify(await request()));
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  agent.destroy();
})();`;

/** A TCP connect that gives up after 3 s, printing how it ended as JSON. */
const CONNECT_PROBE = `const net = require('node:net');
const [host, port] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port) }, () => { console.log(JSON.stringify({ connected: true })); socket.destroy(); });
socket.setTimeout(3000, () => { console.log(JSON.stringify({ error: 'timeout' })); socket.destroy(); });
socket.on('error', (e) => console.log(JSON.stringify({ error: e.code })));`;

/**
 * Plain HTTP GETs from fixed source ports: for each source port, one
 * connection to each host, printing which echo server answered (its
 * x-served-by header) as one JSON array of {host: servedBy} rows.
 */
const FIXED_PORT_PROBE = `const net = require('node:net');
const [hosts, port, sports] = process.argv.slice(1).map((arg) => JSON.parse(arg));
const get = (host, localPort) => new Promise((resolve) => {
  let data = '';
  const socket = net.connect({ host, port, localPort }, () => socket.write('GET /public HTTP/1.1\\r\\nHost: ' + host + '\\r\\nConnection: close\\r\\n\\r\\n'));
  socket.setTimeout(5000, () => { socket.destroy(); resolve('timeout'); });
  socket.on('data', (chunk) => { data += chunk; });
  socket.on('end', () => { const m = /^x-served-by:\\s*(\\S+)/im.exec(data); resolve(m ? m[1] : 'no x-served-by'); });
  socket.on('error', (e) => resolve(e.code));
});
(async () => {
  const rows = [];
  for (const sport of sports) {
    const row = {};
    for (const host of hosts) row[host] = await get(host, sport);
    rows.push(row);
  }
  console.log(JSON.stringify(rows));
})();`;

/** An A query to one server (UDP), printing the answer as JSON. */
const DNS_PROBE = `const { Resolver } = require('node:dns').promises;
const [server, name] = process.argv.slice(1);
const resolver = new Resolver({ timeout: 3000, tries: 1 });
resolver.setServers([server]);
resolver.resolve4(name).then((addresses) => console.log(JSON.stringify({ addresses })), (e) => console.log(JSON.stringify({ error: e.code })));`;

/** Runs `node -e <code> ...args` as a member of `cgroup` inside network namespace `netns`, and parses its JSON line. */
async function probeIn(cgroup: string, netns: string, code: string, args: string[]): Promise<Record<string, unknown>> {
  const script = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"';
  const { stdout } = await run('sh', ['-c', script, 'sh', cgroup, 'nsenter', `--net=/run/netns/${netns}`, process.execPath, '-e', code, ...args], {
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim()) as Record<string, unknown>;
}

interface ServiceRow {
  frontend: { address: string; port: number; protocol: string };
  type: string;
  backends: { address: string; port: number }[];
}

async function serviceLists(): Promise<{ node_name: string; services: ServiceRow[] }[]> {
  return JSON.parse(await tycho(['service', 'list', '-o', 'json'], 30_000)) as { node_name: string; services: ServiceRow[] }[];
}

/** Polls every agent's service list until `ready` holds for all of them. */
async function waitForServiceLists(what: string, ready: (node: { node_name: string; services: ServiceRow[] }) => boolean): Promise<{ node_name: string; services: ServiceRow[] }[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lists = await serviceLists();
    if (lists.length > 0 && lists.every(ready)) return lists;
    if (Date.now() > deadline) throw new Error(`${what} never reached the agents: ${JSON.stringify(lists)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** An RFC 5737 address no world host uses, outside the LoadBalancer pool 203.0.113.128/25. */
const EXTERNAL_IP = '198.51.100.80';

describe('service load-balancing in the lab', () => {
  let state: LabState;
  let echoAClusterIp: string;

  beforeAll(async () => {
    await tycho(['lab', 'up', '--detach']);
    const current = readLabState();
    if (!current) throw new Error('lab up returned but wrote no lab state');
    state = current;
    // Until echo-a and echo-b have ready backends on every node.
    const deadline = Date.now() + 180_000;
    for (;;) {
      const lists = await serviceLists();
      const withBackends = (node: { services: ServiceRow[] }, port: number) =>
        node.services.some((row) => row.type === 'ClusterIP' && row.frontend.port === port && row.backends.length > 0);
      if (lists.length === 2 && lists.every((node) => withBackends(node, 8080) && node.services.filter((r) => r.frontend.port === 8080 && r.backends.length > 0).length >= 2)) {
        const echoAPod = state.pods.find((pod) => pod.owner === 'Deployment/default/echo-a');
        echoAClusterIp = lists[0]!.services.find((row) => row.backends.some((b) => b.address === echoAPod?.ip))!.frontend.address;
        break;
      }
      if (Date.now() > deadline) throw new Error(`services never got backends: ${JSON.stringify(lists)}`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }, 300_000);

  afterAll(async () => {
    await tycho(['lab', 'down']);
  }, 120_000);

  it('a pod reaches a ClusterIP and sees the ClusterIP as its peer', async () => {
    const pod = state.pods.find((p) => p.owner === 'Deployment/default/pod-to-a')!;
    expect(await probeIn(pod.cgroup, pod.netns, HTTP_PROBE, [echoAClusterIp, '8080'])).toEqual({ status: 200, peer: `${echoAClusterIp}:8080` });
  }, 60_000);

  it('a host-network process of each node reaches the ClusterIP and the node port on every node address', async () => {
    for (const node of state.nodes) {
      const cgroup = `${NODE_CGROUP_ROOT}/${node.name}`;
      expect(await probeIn(cgroup, node.netns, HTTP_PROBE, [echoAClusterIp, '8080'])).toEqual({ status: 200, peer: `${echoAClusterIp}:8080` });
      for (const target of state.nodes) {
        expect(await probeIn(cgroup, node.netns, HTTP_PROBE, [target.ip, '31414'])).toEqual({ status: 200, peer: `${target.ip}:31414` });
      }
    }
  }, 120_000);

  it('DNS over UDP to the kube-dns ClusterIP answers service names with their ClusterIPs', async () => {
    const pod = state.pods.find((p) => p.owner === 'Deployment/default/pod-to-a')!;
    expect(await probeIn(pod.cgroup, pod.netns, DNS_PROBE, ['10.96.0.10', 'echo-a.default.svc.cluster.local'])).toEqual({ addresses: [echoAClusterIp] });
  }, 60_000);

  it('tycho service list shows every node the ClusterIP frontends with their backends', async () => {
    const echoAPod = state.pods.find((pod) => pod.owner === 'Deployment/default/echo-a')!;
    const table = await tycho(['service', 'list', '--node', state.nodes[0]!.name], 30_000);
    expect(table.split('\n')[0]).toMatch(/^ID {3}Frontend {2,}Service Type {3}Backend$/);
    expect(table).toMatch(new RegExp(`^\\d+ +${echoAClusterIp.replaceAll('.', '\\.')}:8080 +ClusterIP +1 => ${echoAPod.ip!.replaceAll('.', '\\.')}:8080$`, 'm'));
    expect(table).toMatch(/^\d+ +0\.0\.0\.0:31414 +NodePort +1 => /m);
  }, 60_000);

  it('a client in the world reaches the node port on every node address, translated per packet at the uplink', async () => {
    // Outside every node cgroup: no socket load-balancer, only bpf_host.c on
    // the node's eth0 (DNAT; SNAT when echo-b runs on the other node).
    for (const node of state.nodes) {
      const { stdout } = await run('nsenter', [`--net=/run/netns/${WORLD_NETNS}`, process.execPath, '-e', HTTP_PROBE, node.ip, '31414'], { timeout: 30_000 });
      expect(JSON.parse(stdout.trim())).toEqual({ status: 200, peer: `${node.ip}:31414` });
    }
    // The node holding echo-b saw the world's connection arrive at the pod.
    const flows = (await tycho(['observe', '--all', '-o', 'json', '--from-ip', WORLD_ROUTER_IP, '--to-pod', 'default/echo-b'], 60_000))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { flow: { IP: { source: string }; l4?: { TCP?: { destination_port: number } }; verdict: string } });
    expect(flows.some(({ flow }) => flow.IP.source === WORLD_ROUTER_IP && flow.l4?.TCP?.destination_port === 8080 && flow.verdict === 'FORWARDED')).toBe(true);
  }, 120_000);

  it('Maglev: a flow from the world reaches the same backend through either node, the one the table names', async () => {
    // echo-a and echo-b both answer on 8080: one slice holding both makes one service with two real backends.
    const echoPods = state.pods.filter((pod) => pod.owner === 'Deployment/default/echo-a' || pod.owner === 'Deployment/default/echo-b');
    expect(echoPods).toHaveLength(2);
    await kubectlApply(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'maglev-check', namespace: 'default' },
        spec: { type: 'NodePort', clusterIP: '10.96.255.249', ports: [{ port: 8080, nodePort: 31600 }] },
      },
      endpointSlice('maglev-check-1', 'maglev-check', echoPods.map((pod) => ({ ip: pod.ip!, node: pod.node, pod: pod.name }))),
    );
    try {
      await waitForServiceLists('maglev-check with two backends', (node) =>
        node.services.some((row) => row.type === 'NodePort' && row.frontend.port === 31600 && row.backends.length === 2),
      );
      const hosts = state.nodes.map((node) => node.ip);
      const sports = Array.from({ length: 16 }, (_, i) => 45100 + i * 13);
      const { stdout } = await run('nsenter', [`--net=/run/netns/${WORLD_NETNS}`, process.execPath, '-e', FIXED_PORT_PROBE, JSON.stringify(hosts), '31600', JSON.stringify(sports)], {
        timeout: 60_000,
      });
      const rows = JSON.parse(stdout.trim()) as Record<string, string>[];
      // The table every agent builds from the backends' addresses (default size, no seed), indexed by the flow hash.
      const podNames = new Map(echoPods.map((pod) => [pod.ip!, pod.name]));
      const table = maglevTable([...podNames.keys()].map((address, i) => ({ id: i + 1, key: backendKey({ address, port: 8080, protocol: 'TCP' }) })), {
        size: DEFAULT_MAGLEV_TABLE_SIZE,
      });
      const expected = sports.map((sport) => {
        const id = table[maglevFlowHash({ saddr: WORLD_ROUTER_IP, sport, dport: 31600, proto: 6 }) % table.length]!;
        return podNames.get([...podNames.keys()][id - 1]!)!;
      });
      expect(rows).toEqual(expected.map((name) => Object.fromEntries(hosts.map((host) => [host, name]))));
      expect(new Set(expected).size).toBe(2);
    } finally {
      await kubectlDelete('service/maglev-check', 'endpointslice/maglev-check-1');
    }
  }, 120_000);

  it('a node port without backends drops packets from the world with SERVICE_BACKEND_NOT_FOUND', async () => {
    await kubectlApply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'no-backend', namespace: 'default' },
      spec: { type: 'NodePort', clusterIP: '10.96.255.250', selector: { app: 'nobody' }, ports: [{ port: 8080, nodePort: 31999 }] },
    });
    try {
      const deadline = Date.now() + 30_000;
      while (!(await serviceLists()).every((node) => node.services.some((row) => row.type === 'NodePort' && row.frontend.port === 31999))) {
        if (Date.now() > deadline) throw new Error('the no-backend service never reached the agents');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const node = state.nodes[0]!;
      const { stdout } = await run('nsenter', [`--net=/run/netns/${WORLD_NETNS}`, process.execPath, '-e', CONNECT_PROBE, node.ip, '31999'], { timeout: 30_000 });
      expect(JSON.parse(stdout.trim())).toEqual({ error: 'timeout' });
      const drops = (await tycho(['observe', '--all', '-o', 'json', '--verdict', 'DROPPED', '--from-ip', WORLD_ROUTER_IP, '--to-port', '31999'], 60_000))
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as { flow: { drop_reason_desc?: string; node_name?: string; IP: { destination: string } } });
      expect(drops.length).toBeGreaterThan(0);
      expect(drops.every(({ flow }) => flow.drop_reason_desc === 'SERVICE_BACKEND_NOT_FOUND' && flow.IP.destination === node.ip)).toBe(true);
    } finally {
      await kubectlDelete('service/no-backend');
    }
  }, 120_000);

  it('a pod and a host-network process of each node reach an ExternalIPs and a LoadBalancer frontend', async () => {
    expect(WORLD_HOSTS.map((host) => host.ip)).not.toContain(EXTERNAL_IP);
    const echoBPod = state.pods.find((pod) => pod.owner === 'Deployment/default/echo-b')!;
    const echoBEndpoint = [{ ip: echoBPod.ip!, node: echoBPod.node, pod: echoBPod.name }];
    await kubectlApply(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo-b-external', namespace: 'default' }, spec: { ports: [{ port: 8080 }], externalIPs: [EXTERNAL_IP] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo-b-lb', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 8080 }] } },
      endpointSlice('echo-b-external-1', 'echo-b-external', echoBEndpoint),
      endpointSlice('echo-b-lb-1', 'echo-b-lb', echoBEndpoint),
    );
    try {
      const servesEchoB = (row: ServiceRow) => row.frontend.port === 8080 && row.backends.some((b) => b.address === echoBPod.ip && b.port === 8080);
      const lists = await waitForServiceLists('echo-b-external and echo-b-lb', (node) =>
        node.services.some((row) => row.type === 'ExternalIPs' && row.frontend.address === EXTERNAL_IP && servesEchoB(row)) &&
        node.services.some((row) => row.type === 'LoadBalancer' && servesEchoB(row)),
      );
      // Every agent allocates the same address from the pool (stable allocation).
      const lbAddresses = lists.map((node) => node.services.find((row) => row.type === 'LoadBalancer' && servesEchoB(row))!.frontend.address);
      expect(new Set(lbAddresses).size).toBe(1);
      const lbAddress = lbAddresses[0]!;
      expect(lbAddress).toMatch(/^203\.0\.113\.(1(2[89]|[3-9]\d)|2[0-5]\d)$/);

      const pod = state.pods.find((p) => p.owner === 'Deployment/default/pod-to-a')!;
      const clients = [
        { what: `pod ${pod.name}`, cgroup: pod.cgroup, netns: pod.netns },
        ...state.nodes.map((node) => ({ what: `host network of ${node.name}`, cgroup: `${NODE_CGROUP_ROOT}/${node.name}`, netns: node.netns })),
      ];
      for (const client of clients) {
        for (const frontend of [EXTERNAL_IP, lbAddress]) {
          const answer = await probeIn(client.cgroup, client.netns, SERVED_BY_PROBE, [frontend, '8080']);
          expect({ client: client.what, frontend, answer }).toEqual({ client: client.what, frontend, answer: { status: 200, servedBy: echoBPod.name, peer: `${frontend}:8080` } });
        }
      }
    } finally {
      await kubectlDelete('service/echo-b-external', 'service/echo-b-lb', 'endpointslice/echo-b-external-1', 'endpointslice/echo-b-lb-1');
    }
  }, 120_000);

  it('a long-lived connection to a ClusterIP keeps its backend while other backends come and go', async () => {
    const echoAPod = state.pods.find((p) => p.owner === 'Deployment/default/echo-a')!;
    const node = state.nodes[0]!;
    const prefix = node.podCidr.split('.').slice(0, 3).join('.');
    // Ready endpoints of echo-a in a second slice, at addresses no lab pod has.
    const extraPods = [250, 251].map((octet, i) => ({ name: `echo-a-extra-${i}`, ip: `${prefix}.${octet}` }));
    for (const extra of extraPods) expect(state.pods.map((p) => p.ip)).not.toContain(extra.ip);
    const echoABackends = (count: number) => (listed: { services: ServiceRow[] }) =>
      listed.services.some((row) => row.type === 'ClusterIP' && row.frontend.address === echoAClusterIp && row.frontend.port === 8080 && row.backends.length === count);

    const pod = state.pods.find((p) => p.owner === 'Deployment/default/pod-to-a')!;
    const script = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"';
    const child = spawn('sh', ['-c', script, 'sh', pod.cgroup, 'nsenter', `--net=/run/netns/${pod.netns}`, process.execPath, '-e', LONG_LIVED_PROBE, echoAClusterIp, '8080'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    type Answer = { mark: number; status?: number; servedBy?: string; socket?: number; local?: number; peer?: string; error?: string };
    const answers: Answer[] = [];
    const waiters: { mark: number; resolve: () => void }[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      const answer = JSON.parse(line) as Answer;
      answers.push(answer);
      for (const waiter of waiters.filter((w) => w.mark <= answer.mark)) waiter.resolve();
    });
    const answerWithMark = (mark: number) =>
      new Promise<void>((resolve, reject) => {
        if (answers.some((a) => a.mark >= mark)) return resolve();
        const timer = setTimeout(() => reject(new Error(`no answer in phase ${mark}: ${JSON.stringify(answers)}`)), 15_000);
        waiters.push({ mark, resolve: () => (clearTimeout(timer), resolve()) });
        void exited.then((code) => (clearTimeout(timer), reject(new Error(`the client exited (${code}) before an answer in phase ${mark}: ${JSON.stringify(answers)}`))));
      });
    try {
      await answerWithMark(0);
      await kubectlApply(endpointSlice('echo-a-extra', 'echo-a', extraPods.map((extra) => ({ ip: extra.ip, node: node.name, pod: extra.name })), 'http'));
      await waitForServiceLists('the extra echo-a backends', echoABackends(3));
      child.stdin.write('backends added\n');
      await answerWithMark(1);
      await kubectlDelete('endpointslice/echo-a-extra');
      await waitForServiceLists('the removal of the extra echo-a backends', echoABackends(1));
      child.stdin.write('backends removed\n');
      await answerWithMark(2);
      child.stdin.end();
      expect(await exited).toBe(0);
    } finally {
      await kubectlDelete('endpointslice/echo-a-extra');
      child.kill();
    }
    // Every answer, before, during and after the change, came from echo-a over the same socket.
    expect(new Set(answers.map((a) => a.mark))).toEqual(new Set([0, 1, 2]));
    const first = answers[0]!;
    expect(first).toMatchObject({ status: 200, servedBy: echoAPod.name, socket: 1, peer: `${echoAClusterIp}:8080` });
    for (const answer of answers) {
      expect(answer).toEqual({ mark: answer.mark, status: 200, servedBy: echoAPod.name, socket: 1, local: first.local, peer: `${echoAClusterIp}:8080` });
    }
  }, 120_000);

  it('tycho status says every node translates traffic from the network on its uplink', async () => {
    expect(await tycho(['status'], 60_000)).toMatch(/^KubeProxyReplacement: {3}True {3}\[.* per packet at tc .* on node-1 eth0 \(maglev\), node-2 eth0 \(maglev\)\]$/m);
  }, 60_000);

  it('no node namespace has an iptables or nftables rule for a service', async () => {
    for (const node of state.nodes) {
      const iptables = (await run('nsenter', [`--net=/run/netns/${node.netns}`, 'iptables-save'])).stdout;
      const nft = (await run('nsenter', [`--net=/run/netns/${node.netns}`, 'nft', 'list', 'ruleset'])).stdout;
      for (const rules of [iptables, nft]) {
        expect(rules).not.toMatch(/KUBE-|10\.96\.|31414/);
      }
    }
  }, 60_000);
});
