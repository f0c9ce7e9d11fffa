import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryKubeStore } from '@tycho/kube';
import { KUBE_DIR, readLabState, WORLD_NETNS, WORLD_ROUTER_IP, type LabState } from '@tycho/lab';
import { run, tycho } from './labTestSupport.ts';

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

/** A TCP connect that gives up after 3 s, printing how it ended as JSON. */
const CONNECT_PROBE = `const net = require('node:net');
const [host, port] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port) }, () => { console.log(JSON.stringify({ connected: true })); socket.destroy(); });
socket.setTimeout(3000, () => { console.log(JSON.stringify({ error: 'timeout' })); socket.destroy(); });
socket.on('error', (e) => console.log(JSON.stringify({ error: e.code })));`;

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

  it('a node port without backends drops packets from the world with SERVICE_BACKEND_NOT_FOUND', async () => {
    const store = new DirectoryKubeStore(KUBE_DIR);
    store.put('services', {
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
      store.delete('services', 'default', 'no-backend');
    }
  }, 120_000);

  it('tycho status says every node translates traffic from the network on its uplink', async () => {
    expect(await tycho(['status'], 60_000)).toMatch(/^KubeProxyReplacement: {3}True {3}\[.* per packet at tc .* on node-1 eth0, node-2 eth0\]$/m);
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
