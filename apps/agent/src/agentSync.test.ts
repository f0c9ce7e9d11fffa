import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from './agent.ts';
import { startTestCluster, type TestCluster } from './clusterState.fixture.ts';

let dir: string | undefined;
let cluster: TestCluster | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await cluster?.close();
  cluster = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('agent start', () => {
  it('serves its socket only once every informer has listed, and reports its pod CIDR from its Node', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tycho-agent-sync-'));
    // Without Cilium's CRDs the policy and identity informers cannot list: the agent must wait.
    cluster = await startTestCluster({ ciliumCrds: false });
    cluster.put('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: { podCIDR: '10.244.0.0/24' } });
    const socketPath = join(dir, 'agent.sock');
    const state = cluster.clusterState('node-1');
    let started = false;
    const starting = startAgent({
      nodeName: 'node-1',
      socketPath,
      stateDir: join(dir, 'node-1'),
      cluster: state,
      datapath: { attachEndpoint: () => {}, detachEndpoint: () => {}, onEvents: () => {}, counters: () => ({ lostEvents: 0, packets: 0, events: 0, parseErrors: 0 }), bootNsToWallMs: (ns) => ns / 1e6 },
      log: () => {},
    }).then((running) => {
      started = true;
      return running;
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(started).toBe(false);
    expect(existsSync(socketPath)).toBe(false);
    expect(state.unsynced()).toEqual(expect.arrayContaining(['ciliumNetworkPolicies', 'ciliumClusterwideNetworkPolicies', 'ciliumIdentities']));

    cluster.createCiliumCrds();
    agent = await starting;
    expect(existsSync(socketPath)).toBe(true);
    expect(state.podCidr()).toBe('10.244.0.0/24');
  });
});
