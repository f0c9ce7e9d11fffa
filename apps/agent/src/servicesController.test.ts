import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { endpointSlicesFromPods, type ServiceMapEntries, type ServiceMapOp } from '@tycho/services';
import { describe, expect, it, vi } from 'vitest';

import { startTestCluster } from './clusterState.fixture.ts';
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
    // The EndpointSlices Kubernetes' controller would write for these pods.
    store: { listServices: () => state.services, listEndpointSlices: () => endpointSlicesFromPods(state.services, state.pods), listNodes: () => nodes },
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

  it('serves a selector-less Service from hand-made EndpointSlices read through the API server, and follows a slice change', async () => {
    const cluster = await startTestCluster();
    try {
      const state = cluster.clusterState('node-1');
      await state.synced;
      for (const node of nodes) cluster.put('nodes', node);
      cluster.put('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external-db', namespace: 'default' }, spec: { clusterIP: '10.96.0.70', ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }] } });
      const slice = (addresses: string[]) => ({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'external-db-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'external-db' } },
        addressType: 'IPv4',
        endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
        ports: [{ name: 'sql', port: 15432, protocol: 'TCP' }],
      });
      cluster.put('endpointslices', slice(['192.168.10.5']));
      const { datapath } = recordingDatapath();
      const services = new ServicesController({
        nodeName: 'node-1',
        store: state.view,
        datapath,
        kubeProxyReplacement: { socketLB: true, nodePortFromOutside: false },
        debounceMs: 1,
      });
      const unsubscribe = state.subscribe(() => services.schedule());
      const backendsOf = () => services.status().services.filter((row) => row.frontend.address === '10.96.0.70').flatMap((row) => row.backends.map((b) => `${b.address}:${b.port}`));
      services.schedule();
      await vi.waitFor(() => expect(backendsOf()).toEqual(['192.168.10.5:15432']));

      cluster.put('endpointslices', slice(['192.168.10.5', '192.168.10.6']));
      await vi.waitFor(() => expect(backendsOf()).toEqual(['192.168.10.5:15432', '192.168.10.6:15432']));
      unsubscribe();
      services.close();
    } finally {
      await cluster.close();
    }
  });
});
