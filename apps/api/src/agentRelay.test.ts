import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseAgentAddress } from '@tycho/agent/client';
import { limitFlows, mergeByTime, type Flow, type GetFlowsResponse, type ObserverStatus } from '@tycho/flow';
import type { NodeView } from './agentRelay.ts';
import { startTychoApi } from './apiServer.ts';
import { flowAt, httpGet, startTestCluster, streamClient, testAgent, uuids, waitFor, type TestCluster } from './testAgents.ts';

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

/**
 * An agent stand-in on `<socketDir>/<node>/agent.sock` that answers every
 * `/v1/observe` request (whatever its URL asks) by sending `messages`, and
 * records the URLs it was asked on.
 */
async function scriptedAgent(socketDir: string, node: string, messages: string[]): Promise<{ urls: string[]; close(): Promise<void> }> {
  mkdirSync(join(socketDir, node), { recursive: true });
  // A healthy status, so that what the relay reports of this node comes from the scripted stream alone.
  const status: ObserverStatus = { node_name: node, num_flows: 0, max_flows: 4095, seen_flows: 0, uptime_ns: 0, lost_events: 0 };
  const server: Server = createServer((req, res) => {
    if (req.url === '/v1/status') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status));
    else res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, path: '/v1/observe' });
  const urls: string[] = [];
  wss.on('connection', (ws: WebSocket, req) => {
    urls.push(req.url ?? '');
    ws.once('message', () => messages.forEach((message) => ws.send(message)));
  });
  await new Promise<void>((resolve) => server.listen(join(socketDir, node, 'agent.sock'), resolve));
  return {
    urls,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const plainBatch = (flows: Flow[]) => `[${flows.map((flow) => JSON.stringify({ flow, node_name: flow.node_name, time: flow.time })).join(',')}]`;

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

  it('answers the last (or first) N flows merged across nodes as a full sort would: ties by node, lost records among them, out-of-order arrivals', async () => {
    cluster = await startTestCluster(['node-1', 'node-2']);
    const c = cluster;
    const [one, two] = c.agents;
    await waitFor(async () => (await nodes(c)).every((n) => n.state === 'CONNECTED'), 'both nodes connected');
    one?.publish(flowAt('node-1', 1), flowAt('node-1', 3), flowAt('node-1', 3, { uuid: 'node-1-3b' }), flowAt('node-1', 5));
    two?.publish(flowAt('node-2', 2), flowAt('node-2', 3), flowAt('node-2', 6), flowAt('node-2', 4), flowAt('node-2', 7));
    one?.observer.reportLost('PERF_EVENT_RING_BUFFER', 3);
    one?.publish(flowAt('node-1', 8));
    const all = async (query: string) => ((await c.get(`/api/v1/flows?${query}`)).body as { flows: GetFlowsResponse[] }).flows;
    await waitFor(async () => (await all('since=2024-01-01T00:00:00Z')).length === 11, 'all held');
    const everything = await all('since=2024-01-01T00:00:00Z');
    // What a full sort of each node's responses gives (the lost record is timed now, so it is the newest).
    const held = mergeByTime([everything.filter((r) => r.node_name === 'node-1'), everything.filter((r) => r.node_name === 'node-2')]);
    expect(uuids(everything)).toEqual(uuids(held));
    expect(uuids(everything).slice(0, 7)).toEqual(['node-1-1', 'node-2-2', 'node-1-3', 'node-1-3b', 'node-2-3', 'node-2-4', 'node-1-5']);
    for (const number of [1, 2, 3, 5, 10, 20]) {
      expect(await all(`number=${number}`)).toEqual(limitFlows(held, number, 'last'));
      expect(await all(`number=${number}&first=true`)).toEqual(limitFlows(held, number, 'first'));
    }
    expect(uuids(await all('number=2&since=2024-01-01T00:00:03Z&until=2024-01-01T00:00:04Z'))).toEqual(['node-2-3', 'node-2-4']);
    expect(uuids(await all('number=2&first=true&since=2024-01-01T00:00:03Z'))).toEqual(['node-1-3', 'node-1-3b']);
    expect(uuids(await all('until=2024-01-01T00:00:02Z'))).toEqual(['node-1-1', 'node-2-2']);
  });

  it('answers held flows as JSON spliced from the agents’ texts, the same bytes as serialising the held responses', async () => {
    cluster = await startTestCluster(['node-1', 'node-2']);
    const c = cluster;
    const [one, two] = c.agents;
    await waitFor(async () => (await nodes(c)).every((n) => n.state === 'CONNECTED'), 'both nodes connected');
    const accented = flowAt('node-2', 4, { uuid: 'café-4', destination: { identity: 301, namespace: 'default', labels: ['k8s:app=écho'], pod_name: 'écho-1' } });
    one?.publish(flowAt('node-1', 1), flowAt('node-1', 3), flowAt('node-1', 5, { source: undefined }));
    two?.publish(flowAt('node-2', 2), accented);
    one?.observer.reportLost('PERF_EVENT_RING_BUFFER', 3);
    await waitFor(() => c.api.relay.heldFlows({ sinceNs: 0n }).length === 6, 'five flows and a lost record held');
    const relay = c.api.relay;
    const onNode2 = (flow: Flow) => flow.node_name === 'node-2';
    for (const query of [{}, { number: 2 }, { number: 3, first: true }, { sinceNs: 0n }, { sinceNs: 0n, matches: onNode2 }, { number: 1, matches: onNode2 }]) {
      expect(relay.heldFlowsJson(query).toString()).toBe(JSON.stringify(relay.heldFlows(query)));
    }
    for (const query of ['number=4', 'since=2024-01-01T00:00:00Z', `number=10&whitelist=${encodeURIComponent('[{"node_name":["node-2"]}]')}`]) {
      const answer = await c.get(`/api/v1/flows?${query}`);
      const params = new URLSearchParams(query);
      const expected = {
        ...(params.has('number') ? { number: Number(params.get('number')) } : {}),
        ...(params.has('since') ? { sinceNs: 0n } : {}),
        ...(params.has('whitelist') ? { matches: onNode2 } : {}),
      };
      expect(answer.contentType).toBe('application/json; charset=utf-8');
      expect(answer.text).toBe(JSON.stringify({ flows: relay.heldFlows(expected) }));
    }
  });

  it('answers the last N of nodes whose times interleave from each flow’s bytes, made once: the same selection and bytes on every answer, between the head and tail asked for', async () => {
    cluster = await startTestCluster(['node-1', 'node-2'], { relay: { heldPerNode: 7 } });
    const c = cluster;
    const [one, two] = c.agents;
    await waitFor(async () => (await nodes(c)).every((n) => n.state === 'CONNECTED'), 'both nodes connected');
    // Eight flows per node into rings of seven: the oldest of each is gone. One flow is not ASCII (held as text, not bytes).
    const perNode = [1, 2].map((n) => Array.from({ length: 8 }, (_, i) => flowAt(`node-${n}`, 2 * i + n, i === 5 && n === 2 ? { uuid: 'café-12' } : {})));
    one?.publish(...perNode[0]!);
    two?.publish(...perNode[1]!);
    const relay = c.api.relay;
    await waitFor(() => uuids(relay.heldFlows({ number: 1 })).includes('node-2-16'), 'the newest flow held');
    const held = mergeByTime(perNode.map((flows) => flows.slice(1).map((flow) => ({ flow, node_name: flow.node_name, time: flow.time }))));
    const answered = (number: number) => JSON.parse(relay.heldFlowsJson({ number }).toString()) as GetFlowsResponse[];
    // The newest three get their bytes made first; later answers mix those with flows answered for the first time.
    for (const number of [3, 5, 3, 14, 20]) {
      expect(uuids(answered(number))).toEqual(uuids(limitFlows(held, number, 'last')));
      expect(relay.heldFlowsJson({ number }).toString()).toBe(JSON.stringify(relay.heldFlows({ number })));
    }
    const head = Buffer.from('{"flows":');
    const tail = Buffer.from('}');
    expect(relay.heldFlowsJson({ number: 4 }, { head, tail }).toString()).toBe(JSON.stringify({ flows: relay.heldFlows({ number: 4 }) }));
    // A flow whose response bytes were made keeps its own text for the stream's replay: the flow's JSON, not the response's.
    for (const { flow, flowText } of relay.heldFlowCursor({ sinceNs: 0n }).read(100)) {
      const text = typeof flowText === 'string' ? flowText : Buffer.concat(flowText!).toString();
      expect(text).toBe(JSON.stringify(flow));
    }
  });

  it('reads held flows since a time with a cursor: merged by time, a chunk at a time, on to flows written meanwhile, past those overwritten', async () => {
    cluster = await startTestCluster(['node-1', 'node-2'], { relay: { rescanMs: 50, statusPollMs: 50, initialBackoffMs: 20, maxBackoffMs: 200, heldPerNode: 7 } });
    const c = cluster;
    const [one, two] = c.agents;
    await waitFor(async () => (await nodes(c)).every((n) => n.state === 'CONNECTED'), 'both nodes connected');
    one?.publish(flowAt('node-1', 1), flowAt('node-1', 3), flowAt('node-1', 5));
    two?.publish(flowAt('node-2', 2), flowAt('node-2', 4));
    await waitFor(() => c.api.relay.heldFlows({ sinceNs: 0n }).length === 5, 'five flows held');
    const cursor = c.api.relay.heldFlowCursor({ sinceNs: BigInt(Date.UTC(2024, 0, 1, 0, 0, 2)) * 1_000_000n, matches: (flow) => flow.uuid !== 'node-1-3' });
    const read = (n: number) => cursor.read(n).map((held) => held.flow.uuid);
    expect(read(2)).toEqual(['node-2-2']);
    expect(cursor.done).toBe(false);
    two?.publish(flowAt('node-2', 6));
    await waitFor(() => uuids(c.api.relay.heldFlows()).includes('node-2-6'), 'the new flow held');
    expect(read(10)).toEqual(['node-2-4', 'node-1-5', 'node-2-6']);
    expect(cursor.done).toBe(true);

    const late = c.api.relay.heldFlowCursor();
    expect(late.read(1).map((held) => held.flow.uuid)).toEqual(['node-1-1']);
    // node-1 keeps 7: ten more flows overwrite what the cursor had not read yet.
    one?.publish(...Array.from({ length: 10 }, (_, i) => flowAt('node-1', 10 + i)));
    await waitFor(() => uuids(c.api.relay.heldFlows()).includes('node-1-19'), 'the newest flow held');
    const rest = late.read(100).map((held) => held.flow.uuid);
    expect(rest).toEqual(['node-2-2', 'node-2-4', 'node-2-6', ...Array.from({ length: 7 }, (_, i) => `node-1-${13 + i}`)]);
    expect(late.read(100)).toEqual([]);
    expect(late.done).toBe(true);
  });

  it('relays an agent that interns endpoints exactly as the plain encoding would: held flows, their texts, lost events, the stream', async () => {
    cluster = await startTestCluster(['node-1']);
    const c = cluster;
    const [one] = c.agents;
    await waitFor(async () => (await stateOf(c, 'node-1')) === 'CONNECTED', 'node-1 connected');
    const texts: (string | undefined)[] = [];
    c.api.relay.onFlow((_flow, _timeNs, flowJson) => texts.push(flowJson));
    const client = await streamClient(c.api.url);
    client.send({ type: 'subscribe' });
    await waitFor(() => client.batches().length > 0, 'the first batch');

    const relabelled = flowAt('node-1', 3, { destination: { identity: 301, namespace: 'default', labels: ['k8s:app=echo-a', 'k8s:version=v2'], pod_name: 'echo-a-1' } });
    const flows = [flowAt('node-1', 1), flowAt('node-1', 2), relabelled, flowAt('node-1', 4), flowAt('node-1', 5, { source: undefined })];
    one?.publish(...flows.slice(0, 4));
    await waitFor(() => texts.length === 4, 'the first four flows');
    one?.observer.reportLost('PERF_EVENT_RING_BUFFER', 2);
    // Its own batch: a batch with lost events is parsed whole, without texts, in either encoding.
    await waitFor(() => c.api.relay.heldFlows().some((r) => r.lost_events), 'the lost events');
    one?.publish(flows[4]!);
    await waitFor(() => texts.length === 5, 'the last flow');

    expect(texts).toEqual(flows.map((flow) => JSON.stringify(flow)));
    const held = c.api.relay.heldFlows();
    // The lost record is timed now, after the flows' times.
    expect(held.map((r) => r.flow ?? r.lost_events)).toEqual([...JSON.parse(JSON.stringify(flows)), { source: 'PERF_EVENT_RING_BUFFER', num_events_lost: 2 }]);
    await waitFor(() => client.batches().flatMap((b) => b.flows).length === 5, 'five flows streamed');
    expect(client.batches().flatMap((b) => b.flows)).toEqual(JSON.parse(JSON.stringify(flows)));
    client.close();
  });

  it('follows an older agent that does not know the interned encoding and answers in the plain one', async () => {
    cluster = await startTestCluster([]);
    const c = cluster;
    const flows = [flowAt('node-old', 1), flowAt('node-old', 2)];
    const old = await scriptedAgent(c.socketDir, 'node-old', [plainBatch(flows)]);
    try {
      await waitFor(async () => (await heldUuids(c)).length === 2, 'the old agent’s flows');
      expect(old.urls[0]).toBe('/v1/observe?encoding=interned-endpoints');
      expect(c.api.relay.heldFlows().map((r) => r.flow)).toEqual(flows);
    } finally {
      await old.close();
    }
  });

  it('reports a malformed message from an agent and keeps it out of the held flows, which stay as they were', async () => {
    cluster = await startTestCluster([]);
    const c = cluster;
    const good = flowAt('node-bad', 1);
    const endpoints = `{"endpoints":[[0,${JSON.stringify(good.source)}],[1,${JSON.stringify(good.destination)}]]}`;
    const asRefs = (flow: Flow) => plainBatch([flow]).replace(JSON.stringify(good.source), '0').replace(JSON.stringify(good.destination), '1');
    const broken = asRefs(flowAt('node-bad', 2)).replace('"destination":1', '"destination":9');
    const bad = await scriptedAgent(c.socketDir, 'node-bad', [endpoints, asRefs(good), `${broken.slice(0, -1)},${asRefs(flowAt('node-bad', 3)).slice(1)}`]);
    try {
      // Between reconnects (each refused again) the node is ERROR with the reason.
      const reported = await waitFor(async () => (await nodes(c)).find((n) => n.name === 'node-bad' && n.state === 'ERROR'), 'the node reported');
      expect(reported.error).toBe('node-bad: sent flow node-bad-2 with destination 9, an endpoint it has not defined');
      // The good flow is held, as it was sent; nothing of the bad message is (the reconnect replays only the good one).
      expect(c.api.relay.heldFlows().map((r) => r.flow)).toEqual([good]);
      expect((await c.get('/api/v1/status')).status).toBe(200);
    } finally {
      await bad.close();
    }
  });
});

describe('agent relay: node status', () => {
  it('shows a connected agent that does not answer its status in time as ERROR (Degraded) with the reason, not as connected', async () => {
    cluster = await startTestCluster([]);
    const c = cluster;
    // The stream opens, as a busy agent's would; its status requests are taken and never answered.
    mkdirSync(join(c.socketDir, 'node-2'), { recursive: true });
    const stalled = createServer(() => {});
    const busy = join(c.socketDir, 'node-2', 'agent.sock');
    const wss = new WebSocketServer({ server: stalled, path: '/v1/observe' });
    await new Promise<void>((resolve) => stalled.listen(busy, resolve));
    try {
      const node = await waitFor(async () => (await nodes(c)).find((n) => n.name === 'node-2' && n.state === 'ERROR'), 'node-2 shown as ERROR', 15_000);
      expect(node.error).toMatch(/node-2: cannot get status .*no answer within 2000 ms/);
      expect((await c.get('/api/v1/status')).body).toMatchObject({ num_connected_nodes: 0, num_unavailable_nodes: 1, unavailable_nodes: ['node-2'] });
    } finally {
      for (const client of wss.clients) client.terminate();
      wss.close();
      stalled.closeAllConnections();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });
});
