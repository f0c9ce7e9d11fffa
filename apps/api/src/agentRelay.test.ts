import { afterEach, describe, expect, it } from 'vitest';
import { parseAgentAddress } from '@tycho/agent/client';
import type { GetFlowsResponse } from '@tycho/flow';
import type { NodeView } from './agentRelay.ts';
import { startTychoApi } from './apiServer.ts';
import { flowAt, httpGet, startTestCluster, testAgent, uuids, waitFor, type TestCluster } from './testAgents.ts';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function nodes(c: TestCluster): Promise<NodeView[]> {
  return ((await c.get('/api/v1/nodes')).body as { nodes: NodeView[] }).nodes;
}

async function heldUuids(c: TestCluster): Promise<(string | undefined)[]> {
  return uuids(((await c.get('/api/v1/flows?since=2024-01-01T00:00:00Z')).body as { flows: GetFlowsResponse[] }).flows);
}

const stateOf = async (c: TestCluster, node: string) => (await nodes(c)).find((n) => n.name === node)?.state;

describe('agent relay', () => {
  it('marks a node UNAVAILABLE when its agent stops, and CONNECTED again with flows flowing when it is back', async () => {
    cluster = await startTestCluster(['node-1', 'node-2']);
    const c = cluster;
    const [one] = c.agents;
    await waitFor(async () => (await nodes(c)).every((n) => n.state === 'CONNECTED'), 'both nodes connected');

    await one?.stop();
    await waitFor(async () => (await stateOf(c, 'node-1')) === 'UNAVAILABLE', 'node-1 unavailable');
    const down = (await nodes(c)).find((n) => n.name === 'node-1');
    expect(down?.error).toMatch(/node-1/);
    expect(await stateOf(c, 'node-2')).toBe('CONNECTED');
    expect((await c.get('/api/v1/status')).body).toMatchObject({ num_connected_nodes: 1, num_unavailable_nodes: 1, unavailable_nodes: ['node-1'] });

    await one?.start();
    await waitFor(async () => (await stateOf(c, 'node-1')) === 'CONNECTED', 'node-1 connected again');
    one?.publish(flowAt('node-1', 7));
    await waitFor(async () => (await heldUuids(c)).includes('node-1-7'), 'a flow from the restarted agent');
  });

  it('resumes after a reconnect with what the agent saw meanwhile, without duplicates', async () => {
    cluster = await startTestCluster(['node-1']);
    const c = cluster;
    const [one] = c.agents;
    one?.publish(flowAt('node-1', 1), flowAt('node-1', 2));
    await waitFor(async () => (await heldUuids(c)).length === 2, 'two flows held');

    await one?.stop();
    await waitFor(async () => (await stateOf(c, 'node-1')) === 'UNAVAILABLE', 'node-1 unavailable');
    one?.publish(flowAt('node-1', 2, { uuid: 'node-1-2b' }), flowAt('node-1', 3));
    await one?.start();
    await waitFor(async () => (await heldUuids(c)).includes('node-1-3'), 'the flow published while disconnected');
    expect(await heldUuids(c)).toEqual(['node-1-1', 'node-1-2', 'node-1-2b', 'node-1-3']);
  });

  it('picks up a node whose agent appears after the API started', async () => {
    cluster = await startTestCluster(['node-1']);
    const c = cluster;
    const late = testAgent(c.socketDir, 'node-3');
    late.publish(flowAt('node-3', 4));
    await late.start();
    try {
      await waitFor(async () => (await stateOf(c, 'node-3')) === 'CONNECTED', 'node-3 connected');
      await waitFor(async () => (await heldUuids(c)).includes('node-3-4'), 'node-3’s flow');
    } finally {
      await late.stop();
    }
  });

  it('follows a fixed list of agents given by address', async () => {
    cluster = await startTestCluster([]);
    const c = cluster;
    const fixed = testAgent(c.dir, 'node-9');
    fixed.publish(flowAt('node-9', 1));
    await fixed.start();
    const api = await startTychoApi({
      port: 0,
      host: '127.0.0.1',
      agents: [parseAgentAddress(`node-9=ws+unix://${fixed.socketPath}:/v1/observe`)],
      webDir: c.webDir,
      log: () => {},
    });
    try {
      await waitFor(async () => ((await httpGet(`${api.url}/api/v1/flows`)).body as { flows: GetFlowsResponse[] }).flows.length === 1, 'node-9’s flow');
      expect(((await httpGet(`${api.url}/api/v1/nodes`)).body as { nodes: NodeView[] }).nodes.map((n) => n.name)).toEqual(['node-9']);
    } finally {
      await api.close();
      await fixed.stop();
    }
  });
});
