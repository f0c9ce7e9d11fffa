import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiServer, EndpointManager, Observer, type ApiServer, type ServicesStatus } from '@tycho/agent';
import { buildServiceModel, serviceListRows } from '@tycho/services';
import { createProgram } from './program.ts';
import { formatKubeProxyReplacement } from './serviceCommand.ts';

let socketDir: string;
const servers: ApiServer[] = [];

const model = buildServiceModel({
  services: [
    {
      metadata: { name: 'kube-dns', namespace: 'kube-system' },
      spec: {
        clusterIP: '10.96.0.10',
        selector: { 'k8s-app': 'kube-dns' },
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      },
    },
  ],
  endpointSlices: [
    {
      metadata: { name: 'kube-dns-1', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.0.98'], conditions: { ready: true }, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'kube-system', name: 'coredns-1' } }],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    },
  ],
  nodes: [],
});

async function startAgentApi(node: string, services?: ServicesStatus): Promise<void> {
  const endpoints = new EndpointManager({
    stateDir: join(socketDir, node),
    datapath: { attachEndpoint: () => {}, detachEndpoint: () => {} },
    resolvePod: () => ({ identity: 256, labels: [], workloads: [] }),
  });
  const api = createApiServer({ observer: new Observer({ nodeName: node, ringCapacity: 63 }), endpoints, ...(services ? { services: { status: () => services } } : {}) });
  await api.listen(join(socketDir, node, 'agent.sock'));
  servers.push(api);
}

const socketLbStatus = (node: string): ServicesStatus => ({
  node_name: node,
  kube_proxy_replacement: { socketLB: true, cgroup: `/sys/fs/cgroup/unified/tycho/${node}`, nodePortFromOutside: false },
  services: serviceListRows(model, node),
  revision: 1,
});

async function tycho(args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const program = createProgram({ stdout: (t) => (out += t), stderr: (t) => (err += t), timeZone: 'utc' });
  try {
    await program.parseAsync(['node', 'tycho', ...args]);
    return { out, err, exitCode: 0 };
  } catch (error) {
    if (error instanceof CommanderError) return { out, err, exitCode: error.exitCode };
    return { out, err: err + (error as Error).message, exitCode: 1 };
  }
}

beforeEach(() => {
  socketDir = mkdtempSync(join(tmpdir(), 'tycho-cli-svc-'));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  rmSync(socketDir, { recursive: true, force: true });
});

describe('tycho service list', () => {
  it("prints a node's frontends and backends in cilium service list's layout", async () => {
    await startAgentApi('node-1', socketLbStatus('node-1'));
    const { out, exitCode } = await tycho(['service', 'list', '--socket-dir', socketDir]);
    expect(exitCode).toBe(0);
    expect(out).toBe(
      [
        'ID   Frontend            Service Type   Backend',
        '1    10.96.0.10:53/UDP   ClusterIP      1 => 10.244.0.98:53',
        '2    10.96.0.10:53/TCP   ClusterIP      1 => 10.244.0.98:53',
        '',
      ].join('\n'),
    );
  });

  it('heads each node when there are several, and names an agent that does not load-balance', async () => {
    await startAgentApi('node-1', socketLbStatus('node-1'));
    await startAgentApi('node-2');
    const { out, err, exitCode } = await tycho(['service', 'list', '--socket-dir', socketDir]);
    expect(exitCode).toBe(0);
    expect(out).toMatch(/^Node: node-1\nID {3}Frontend/);
    expect(out).toMatch(/\n\nNode: node-2\n$/);
    expect(err).toBe('tycho service list: node-2: this agent does not load-balance services (started without --cgroup)\n');
  });

  it('explains every column and flag in --help', async () => {
    const { out } = await tycho(['service', 'list', '--help']);
    for (const text of ['--node <name...>', '--socket-dir <dir>', '-o, --output <format>', '--protocols', 'Service Type', 'tycho service list -o json']) {
      expect(out).toContain(text);
    }
  });
});

describe('the KubeProxyReplacement line of tycho status', () => {
  it('is Partial with socket LB only, naming what is not handled', async () => {
    await startAgentApi('node-1', socketLbStatus('node-1'));
    const { out } = await tycho(['status', '--server', 'http://127.0.0.1:9', '--socket-dir', socketDir]);
    expect(out).toMatch(
      /^KubeProxyReplacement: {3}Partial {3}\[ClusterIP, NodePort, ExternalIPs and LoadBalancer at the socket .* on node-1; NodePort, ExternalIPs and LoadBalancer traffic arriving from outside the node .* is not handled yet\]$/m,
    );
  });

  it('is True when every agent also translates traffic from the network, naming each uplink', async () => {
    for (const node of ['node-1', 'node-2']) {
      const status = socketLbStatus(node);
      await startAgentApi(node, { ...status, kube_proxy_replacement: { ...status.kube_proxy_replacement, nodePortFromOutside: true, lbDevice: 'eth0', lbAlgorithm: 'maglev' } });
    }
    const { out } = await tycho(['status', '--server', 'http://127.0.0.1:9', '--socket-dir', socketDir]);
    expect(out).toMatch(
      /^KubeProxyReplacement: {3}True {3}\[ClusterIP, NodePort, ExternalIPs and LoadBalancer at the socket .*; NodePort, ExternalIPs and LoadBalancer traffic arriving from the network translated per packet at tc .* on node-1 eth0 \(maglev\), node-2 eth0 \(maglev\)\]$/m,
    );
  });

  it('is Partial naming the nodes without per-packet translation', async () => {
    const status = socketLbStatus('node-1');
    await startAgentApi('node-1', { ...status, kube_proxy_replacement: { ...status.kube_proxy_replacement, nodePortFromOutside: true, lbDevice: 'eth0' } });
    await startAgentApi('node-2', socketLbStatus('node-2'));
    const { out } = await tycho(['status', '--server', 'http://127.0.0.1:9', '--socket-dir', socketDir]);
    expect(out).toMatch(/^KubeProxyReplacement: {3}Partial {3}\[.* on node-1, node-2; .* per packet at tc .* on node-1 eth0; not on node-2\]$/m);
  });

  it('is False when no agent load-balances, and Unknown without agents', () => {
    expect(formatKubeProxyReplacement([{ node: 'node-1', ok: false, error: 'started without --cgroup' }])).toBe(
      'KubeProxyReplacement:   False   [node-1: started without --cgroup]',
    );
    expect(formatKubeProxyReplacement([])).toBe('KubeProxyReplacement:   Unknown   [no node agent answered]');
  });
});
