import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from '@tycho/kube/labApiServer.fixture';
import { namespaceObject, nodeObject, podObject, type PodRecord } from './kubeObjects.ts';
import { createLabClusterWriter, type LabClusterWriter } from './labClusterWriter.ts';
import { LAB_NODES } from './nodes.ts';

let server: TestApiServer;
let writer: LabClusterWriter;
let logged: string[];

beforeEach(async () => {
  server = await startTestApiServer();
  logged = [];
  writer = createLabClusterWriter(await server.kubeConfig(), (line) => logged.push(line));
});
afterEach(async () => {
  writer.close();
  await server.close();
});

const createdAt = new Date('2026-01-02T03:04:05Z');
function pod(overrides: Partial<PodRecord> = {}): PodRecord {
  return {
    namespace: 'team-a',
    name: 'echo-a-1',
    labels: { name: 'echo-a' },
    ownerRef: { kind: 'ReplicaSet', name: 'echo-a-5d8f' },
    spec: { containers: [{ name: 'echo', image: 'quay.io/cilium/json-mock:v1.3.2' }] },
    nodeName: 'node-1',
    hostIP: '172.18.0.2',
    podIP: '10.244.0.7',
    phase: 'Running',
    ready: false,
    containers: [{ name: 'echo', image: 'quay.io/cilium/json-mock:v1.3.2', running: true, ready: false, restarts: 0 }],
    createdAt,
    readySince: undefined,
    ...overrides,
  };
}

const stored = (group: string, version: string, plural: string, namespace: string, name: string) => server.store.tryGet(server.resource(group, version, plural), namespace, name);

describe('createLabClusterWriter', () => {
  it('creates a namespace, a node and a pod with their status through the status subresource', async () => {
    writer.put(namespaceObject('team-a'));
    writer.put(nodeObject(LAB_NODES[0]!, createdAt));
    writer.put(podObject(pod()));
    await writer.flushed();
    expect(stored('', 'v1', 'namespaces', '', 'team-a')).toBeDefined();
    expect(stored('', 'v1', 'nodes', '', 'node-1')).toMatchObject({
      spec: { podCIDR: '10.244.0.0/24' },
      status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }, { type: 'Hostname', address: 'node-1' }], conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(stored('', 'v1', 'pods', 'team-a', 'echo-a-1')).toMatchObject({
      metadata: { labels: { name: 'echo-a' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'echo-a-5d8f', controller: true }] },
      spec: { nodeName: 'node-1' },
      status: { phase: 'Running', podIP: '10.244.0.7', hostIP: '172.18.0.2', containerStatuses: [{ name: 'echo', ready: false, started: true }] },
    });
  });

  it('updates a pod when its readiness changes, the latest wish winning', async () => {
    writer.put(namespaceObject('team-a'));
    writer.put(podObject(pod()));
    writer.put(podObject(pod({ ready: true, readySince: createdAt })));
    await writer.flushed();
    const conditions = (stored('', 'v1', 'pods', 'team-a', 'echo-a-1')?.status as { conditions: { type: string; status: string }[] }).conditions;
    expect(conditions.find((condition) => condition.type === 'Ready')?.status).toBe('True');
  });

  it('deletes what it wrote when it goes away, and leaves objects it never wrote alone', async () => {
    writer.put(namespaceObject('team-a'));
    writer.put(podObject(pod()));
    await writer.flushed();
    server.store.create(server.resource('', 'v1', 'pods'), 'team-a', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'not-the-labs', namespace: 'team-a' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    writer.remove(podObject(pod()));
    writer.remove({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'not-the-labs', namespace: 'team-a' } });
    await writer.flushed();
    expect(stored('', 'v1', 'pods', 'team-a', 'echo-a-1')).toBeUndefined();
    expect(stored('', 'v1', 'pods', 'team-a', 'not-the-labs')).toBeDefined();
  });

  it('keeps retrying while the API server is down and writes once it is back', async () => {
    await server.stop();
    writer.put(namespaceObject('team-b'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(logged.some((line) => line.startsWith('cannot write v1/Namespace//team-b to the Kubernetes API (retrying)'))).toBe(true);
    await server.start();
    await writer.flushed();
    expect(stored('', 'v1', 'namespaces', '', 'team-b')).toBeDefined();
  });

  it("applies Cilium's CRDs, after which a CiliumNetworkPolicy can be written", async () => {
    await writer.applyCustomResourceDefinitions();
    writer.put({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: 'allow', namespace: 'default' }, spec: { endpointSelector: {} } } as never);
    await writer.flushed();
    expect(stored('cilium.io', 'v2', 'ciliumnetworkpolicies', 'default', 'allow')).toMatchObject({ spec: { endpointSelector: {} } });
  });
});
