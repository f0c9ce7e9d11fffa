import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { ServiceMapEntries, ServiceMapOp } from '@tycho/services';
import { describe, expect, it } from 'vitest';

import { ServicesController, type ServiceLbDatapath } from './servicesController.ts';

const nodes: V1Node[] = [
  { metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }] } },
  { metadata: { name: 'node-2' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.3' }] } },
];

function pod(name: string, ip: string, ready: boolean): V1Pod {
  return {
    metadata: { name, namespace: 'default', labels: { name: 'echo' } },
    spec: { nodeName: 'node-2', containers: [{ name: 'main', image: 'tycho/echo' }] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

const echo: V1Service = {
  metadata: { name: 'echo', namespace: 'default' },
  spec: { type: 'NodePort', clusterIP: '10.96.0.50', selector: { name: 'echo' }, ports: [{ port: 8080, nodePort: 31414 }] },
};

function recordingDatapath() {
  const calls: { sync: ServiceMapEntries[]; apply: ServiceMapOp[][]; nodes: { address: string; local: boolean }[][] } = { sync: [], apply: [], nodes: [] };
  const datapath: ServiceLbDatapath = {
    sync: (entries) => calls.sync.push(entries),
    apply: (ops) => void calls.apply.push([...ops]),
    setNodeAddresses: (addresses) => void calls.nodes.push([...addresses]),
  };
  return { calls, datapath };
}

function controller(state: { services: V1Service[]; pods: V1Pod[] }, datapath: ServiceLbDatapath, lbAlgorithm?: 'random' | 'maglev') {
  return new ServicesController({
    nodeName: 'node-1',
    store: { listServices: () => state.services, listPods: () => state.pods, listNodes: () => nodes },
    datapath,
    kubeProxyReplacement: { socketLB: true, cgroup: '/sys/fs/cgroup/unified/tycho/node-1', nodePortFromOutside: false },
    ...(lbAlgorithm ? { lbAlgorithm } : {}),
    maglevTableSize: 251,
  });
}

describe('ServicesController', () => {
  it('writes the whole model with a full sync first, and lists what it programmed', () => {
    const { calls, datapath } = recordingDatapath();
    const services = controller({ services: [echo], pods: [pod('echo-1', '10.244.1.12', true)] }, datapath);
    services.sync();
    expect(calls.sync).toHaveLength(1);
    expect(calls.nodes[0]).toEqual([
      { address: '172.18.0.2', local: true },
      { address: '172.18.0.3', local: false },
    ]);
    const status = services.status();
    expect(status.services.map((row) => `${row.frontend.address}:${row.frontend.port} ${row.type} ${row.backends.length}`)).toEqual([
      '10.96.0.50:8080 ClusterIP 1',
      '0.0.0.0:31414 NodePort 1',
      '172.18.0.2:31414 NodePort 1',
    ]);
    expect(status.error).toBeUndefined();
  });

  it('then writes only what changed: a pod turning unready removes its slots and lowers the counts', () => {
    const { calls, datapath } = recordingDatapath();
    const state = { services: [echo], pods: [pod('echo-1', '10.244.1.12', true), pod('echo-2', '10.244.1.13', true)] };
    const services = controller(state, datapath);
    services.sync();
    state.pods = [pod('echo-1', '10.244.1.12', true), pod('echo-2', '10.244.1.13', false)];
    services.sync();
    const ops = calls.apply[0]!;
    expect(ops.filter((op) => op.op === 'delete').map((op) => op.map)).toEqual(['services', 'services', 'services', 'backends']);
    const upserts = ops.filter((op) => op.op === 'upsert' && op.map !== 'maglev');
    expect(upserts.every((op) => op.op === 'upsert' && op.map === 'services' && op.entry.key.backendSlot === 0 && op.entry.value.count === 1)).toBe(true);
    expect(services.revision).toBe(2);
    // Flows name the service of a ready backend only.
    expect(services.serviceOfBackend('10.244.1.12', 8080, 'TCP')).toEqual({ name: 'echo', namespace: 'default' });
    expect(services.serviceOfBackend('10.244.1.13', 8080, 'TCP')).toBeUndefined();
  });

  it('gives the NodePort frontends Maglev tables by default, not the ClusterIP, and rebuilds them when a backend goes', () => {
    const { calls, datapath } = recordingDatapath();
    const state = { services: [echo], pods: [pod('echo-1', '10.244.1.12', true), pod('echo-2', '10.244.1.13', true)] };
    const services = controller(state, datapath);
    services.sync();
    const entries = calls.sync[0]!;
    const clusterIp = entries.services.find((e) => e.value.flags.type === 'ClusterIP')!.value.revNatIndex;
    const nodePorts = [...new Set(entries.services.filter((e) => e.value.flags.type === 'NodePort').map((e) => e.value.revNatIndex))];
    expect(entries.maglev.map((m) => m.revNatIndex).sort()).toEqual(nodePorts.sort());
    expect(entries.maglev.some((m) => m.revNatIndex === clusterIp)).toBe(false);
    expect(entries.maglev.every((m) => m.backendIds.length === 251)).toBe(true);
    state.pods = [pod('echo-1', '10.244.1.12', true)];
    services.sync();
    const rebuilt = calls.apply[0]!.filter((op) => op.map === 'maglev' && op.op === 'upsert');
    expect(rebuilt.map((op) => (op.map === 'maglev' && op.op === 'upsert' ? op.entry.revNatIndex : 0)).sort()).toEqual(nodePorts.sort());
    expect(rebuilt.every((op) => op.map === 'maglev' && op.op === 'upsert' && new Set(op.entry.backendIds).size === 1)).toBe(true);
  });

  it('writes no Maglev table with --lb-algorithm random', () => {
    const { calls, datapath } = recordingDatapath();
    controller({ services: [echo], pods: [pod('echo-1', '10.244.1.12', true)] }, datapath, 'random').sync();
    expect(calls.sync[0]!.maglev).toEqual([]);
    expect(calls.sync[0]!.services.some((e) => e.value.flags.maglev)).toBe(false);
  });

  it('keeps the last good maps and reports the error when a Service is invalid', () => {
    const { calls, datapath } = recordingDatapath();
    const state = { services: [echo], pods: [pod('echo-1', '10.244.1.12', true)] };
    const services = controller(state, datapath);
    services.sync();
    state.services = [echo, { metadata: { name: 'bad', namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] } }];
    services.sync();
    expect(calls.apply).toHaveLength(0);
    expect(services.status().error).toMatch(/^cannot build the service model: Service default\/bad: spec\.ports\[0\]\.nodePort: /);
    expect(services.status().services).toHaveLength(3);
  });
});
