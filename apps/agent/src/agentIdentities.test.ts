import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startAgent, type Agent, type AgentDatapath } from './agent.ts';
import { startTestCluster, type TestCluster } from './clusterState.fixture.ts';
import { createRecordingPolicyDatapath, type RecordingPolicyDatapath } from './policyDatapath.ts';

const datapath = (): AgentDatapath => ({
  attachEndpoint: () => {},
  detachEndpoint: () => {},
  onEvents: () => {},
  counters: () => ({ lostEvents: 0, packets: 0, events: 0, parseErrors: 0 }),
  bootNsToWallMs: (tsNs) => tsNs / 1e6,
});

const pod = (name: string, nodeName: string, ip: string) => ({
  metadata: { name, namespace: 'default', labels: { name: 'echo' } },
  spec: { nodeName, containers: [{ name: 'main', image: 'tycho/echo' }] },
  status: { podIP: ip },
});

let dir: string;
let cluster: TestCluster;
const agents: { agent: Agent; policy: RecordingPolicyDatapath; socket: string }[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-agent-identities-'));
  cluster = await startTestCluster();
  cluster.put('pods', pod('echo-1', 'node-1', '10.244.0.5'));
  cluster.put('pods', pod('echo-2', 'node-2', '10.244.1.5'));
  // Both agents start at once, so both race to allocate the echo pods' label set.
  await Promise.all(
    ['node-1', 'node-2'].map(async (node) => {
      const policy = createRecordingPolicyDatapath();
      const socket = join(dir, node, 'agent.sock');
      const agent = await startAgent({ nodeName: node, socketPath: socket, stateDir: join(dir, node), cluster: cluster.clusterState(node), datapath: datapath(), policyDatapath: policy.datapath, log: () => {} });
      agents.push({ agent, policy, socket });
    }),
  );
});
afterEach(async () => {
  for (const { agent } of agents.splice(0)) await agent.stop();
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('agents on two nodes', () => {
  it('agree on the identity of one label set, allocated once as a CiliumIdentity, and map each other’s pods to it', async () => {
    const identityIn = (index: number, address: string) => agents[index]?.policy.hostAddresses().find((host) => host.address === address)?.identity;
    await vi.waitFor(() => {
      for (const index of [0, 1]) for (const address of ['10.244.0.5', '10.244.1.5']) expect(identityIn(index, address)).toBeGreaterThanOrEqual(256);
    });
    const identity = identityIn(0, '10.244.0.5');
    expect([identityIn(0, '10.244.1.5'), identityIn(1, '10.244.0.5'), identityIn(1, '10.244.1.5')]).toEqual([identity, identity, identity]);

    const stored = cluster.api.store.list(cluster.api.resource('cilium.io', 'v2', 'ciliumidentities'), undefined).items;
    expect(stored.map((object) => object.metadata.name)).toEqual([String(identity)]);
    expect(agents[1]?.agent.ipCache.lookup('10.244.0.5')).toMatchObject({ identity, podName: 'echo-1', nodeName: 'node-1' });
  });
});
