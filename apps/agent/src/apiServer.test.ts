import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { Flow } from '@tycho/flow';
import { createApiServer, type ApiServer } from './apiServer.ts';
import { EndpointManager } from './endpointManager.ts';
import { observeAgent } from './observeClient.ts';
import { Observer } from './observer.ts';

const run = promisify(execFile);
let dir: string;
let socketPath: string;
let observer: Observer;
let api: ApiServer;
const attached = new Map<number, number>();

function flowAt(second: number): Flow {
  const time = new Date(Date.UTC(2024, 0, 1) + second * 1000).toISOString();
  return { time, uuid: `flow-${second}`, verdict: 'FORWARDED', Type: 'L3_L4', node_name: 'node-1', event_type: { type: 4 } };
}

function http(method: string, path: string, body?: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Opens /v1/observe, sends `request`, collects messages until `count` arrive or the server closes.
 * `messages` has the items of batches (JSON arrays) one by one; `frames` the WebSocket messages as sent.
 */
function observe(message: string, count = Number.POSITIVE_INFINITY, path = '/v1/observe'): Promise<{ messages: unknown[]; frames: unknown[]; closeCode?: number; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${socketPath}:${path}`);
    const messages: unknown[] = [];
    const frames: unknown[] = [];
    ws.on('open', () => ws.send(message));
    ws.on('message', (data) => {
      const frame: unknown = JSON.parse(data.toString());
      frames.push(frame);
      messages.push(...(Array.isArray(frame) ? frame : [frame]));
      if (messages.length >= count) resolve({ messages, frames, ws });
    });
    ws.on('close', (code) => resolve({ messages, frames, closeCode: code, ws }));
    ws.on('error', reject);
  });
}

const echoA = {
  containerId: 'c1',
  podName: 'echo-a',
  namespace: 'default',
  netns: '/run/netns/tycho-pod-default-echo-a',
  ifname: 'eth0',
  hostIfname: 'lxc1234',
  hostIfindex: 20,
  ipv4: '10.244.0.5',
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-api-'));
  socketPath = join(dir, 'node-1', 'agent.sock');
  observer = new Observer({ nodeName: 'node-1', ringCapacity: 15 });
  attached.clear();
  const endpoints = new EndpointManager({
    stateDir: dir,
    datapath: {
      attachEndpoint: (ifindex, info) => attached.set(ifindex, info.endpointId),
      detachEndpoint: (ifindex) => attached.delete(ifindex),
    },
    resolvePod: () => ({ identity: 256, labels: ['k8s:io.kubernetes.pod.namespace=default'], workloads: [] }),
  });
  api = createApiServer({ observer, endpoints });
  await api.listen(socketPath);
});
afterEach(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('agent API: endpoints', () => {
  it('registers an endpoint: 201 with its id and identity, and attaches it', async () => {
    expect(await http('POST', '/v1/endpoints', JSON.stringify(echoA))).toEqual({ status: 201, json: { id: 1, identity: 256 } });
    expect(attached.get(20)).toBe(1);
  });

  it('lists registered endpoints', async () => {
    await http('POST', '/v1/endpoints', JSON.stringify(echoA));
    const { status, json } = await http('GET', '/v1/endpoints');
    expect(status).toBe(200);
    expect(json).toMatchObject([{ containerId: 'c1', id: 1, ipv4: '10.244.0.5' }]);
  });

  it('accepts an address with a prefix length and keeps it bare', async () => {
    await http('POST', '/v1/endpoints', JSON.stringify({ ...echoA, ipv4: '10.244.0.5/32' }));
    expect((await http('GET', '/v1/endpoints')).json).toMatchObject([{ ipv4: '10.244.0.5' }]);
  });

  it('answers 400 to a body that is not JSON', async () => {
    const { status, json } = await http('POST', '/v1/endpoints', '{"containerId":');
    expect(status).toBe(400);
    expect(json).toEqual({ error: expect.stringMatching(/^request body is not JSON/) });
  });

  it('answers 400 naming the fields that are missing or wrong', async () => {
    const { hostIfindex: _missing, ...withoutIfindex } = echoA;
    const { status, json } = await http('POST', '/v1/endpoints', JSON.stringify({ ...withoutIfindex, ipv4: 'ten.zero' }));
    expect(status).toBe(400);
    expect((json as { error: string }).error).toMatch(/hostIfindex: required \(the host-side veth ifindex\); ipv4: expected an IPv4 address/);
  });

  it('deregisters with 204, also for containers it does not know', async () => {
    await http('POST', '/v1/endpoints', JSON.stringify(echoA));
    expect((await http('DELETE', '/v1/endpoints/c1')).status).toBe(204);
    expect((await http('DELETE', '/v1/endpoints/c1')).status).toBe(204);
    expect(attached.size).toBe(0);
  });

  it('answers 404 for unknown paths and 405 for wrong methods', async () => {
    expect((await http('GET', '/v2/nothing')).status).toBe(404);
    expect((await http('PUT', '/v1/endpoints')).status).toBe(405);
  });
});

describe('agent API: status', () => {
  it('reports the ring’s counts', async () => {
    observer.publish(flowAt(1));
    const { status, json } = await http('GET', '/v1/status');
    expect(status).toBe(200);
    expect(json).toMatchObject({ node_name: 'node-1', num_flows: 1, max_flows: 15, seen_flows: 1, lost_events: 0 });
    expect(typeof (json as { uptime_ns: unknown }).uptime_ns).toBe('number');
  });
});

describe('agent API: /v1/observe', () => {
  it('streams the requested flows as GetFlowsResponse messages, then closes normally', async () => {
    for (let s = 1; s <= 3; s++) observer.publish(flowAt(s));
    const { messages, closeCode } = await observe(JSON.stringify({ number: 2 }));
    expect(messages).toEqual([
      { flow: flowAt(2), node_name: 'node-1', time: flowAt(2).time },
      { flow: flowAt(3), node_name: 'node-1', time: flowAt(3).time },
    ]);
    expect(closeCode).toBe(1000);
  });

  it('sends responses batched: one JSON array per event-loop turn, each item a GetFlowsResponse', async () => {
    for (let s = 1; s <= 3; s++) observer.publish(flowAt(s));
    const { frames: history, ws } = await observe(JSON.stringify({ number: 3, follow: true }), 3);
    expect(history).toEqual([[1, 2, 3].map((s) => ({ flow: flowAt(s), node_name: 'node-1', time: flowAt(s).time }))]);
    const live = new Promise<unknown>((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
    observer.publish(flowAt(4));
    observer.reportLost('PERF_EVENT_RING_BUFFER', 2);
    observer.publish(flowAt(5));
    const batch = (await live) as { flow?: Flow; lost_events?: unknown }[];
    expect(batch.map((r) => r.flow?.uuid ?? r.lost_events)).toEqual(['flow-4', { source: 'PERF_EVENT_RING_BUFFER', num_events_lost: 2 }, 'flow-5']);
    ws.close();
  });

  it('interns endpoints when asked: each new endpoint defined once, just before the batch that first uses it', async () => {
    const pod = (name: string) => ({ identity: 300, namespace: 'default', labels: [`k8s:app=${name}`], pod_name: `${name}-1` });
    const withEnds = (second: number, source: string, destination: string): Flow => ({ ...flowAt(second), source: pod(source), destination: pod(destination) });
    observer.publish(withEnds(1, 'client', 'echo-a'));
    observer.publish(withEnds(2, 'client', 'echo-a'));
    observer.publish(flowAt(3));
    const { frames: history, ws } = await observe(JSON.stringify({ number: 3, follow: true }), 3, '/v1/observe?encoding=interned-endpoints');
    const plain = (flow: Flow) => JSON.stringify({ flow, node_name: 'node-1', time: flow.time });
    expect(history).toEqual([
      { endpoints: [[0, pod('client')], [1, pod('echo-a')]] },
      [
        ...[1, 2].map((s) => ({ flow: { ...flowAt(s), source: 0, destination: 1 }, node_name: 'node-1', time: flowAt(s).time })),
        { flow: flowAt(3), node_name: 'node-1', time: flowAt(3).time },
      ],
    ]);
    // Apart from the two values, the text is the plain encoding's, keys in the same order.
    const frames: string[] = [];
    ws.on('message', (data) => frames.push(data.toString()));
    observer.publish(withEnds(4, 'client', 'echo-b'));
    await new Promise<void>((resolve) => { const check = () => (frames.length >= 2 ? resolve() : setTimeout(check, 5)); check(); });
    expect(frames[0]).toBe(`{"endpoints":[[2,${JSON.stringify(pod('echo-b'))}]]}`);
    expect(frames[1]).toBe(`[${plain(withEnds(4, 'client', 'echo-b')).replace(JSON.stringify(pod('client')), '0').replace(JSON.stringify(pod('echo-b')), '2')}]`);
    ws.close();
  });

  it('refuses an encoding it does not know, naming the parameter', async () => {
    const { messages, closeCode } = await observe(JSON.stringify({ follow: true }), Number.POSITIVE_INFINITY, '/v1/observe?encoding=protobuf');
    expect(messages).toEqual([{ error: "invalid observe request: encoding: 'protobuf' is not an encoding; expected 'interned-endpoints' or no encoding parameter" }]);
    expect(closeCode).toBe(1008);
  });

  it('hands the items of batches and single responses to observeAgent one by one, and refuses a batch with a bad item', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    const frames = [
      JSON.stringify({ flow: flowAt(1), node_name: 'node-1', time: flowAt(1).time }),
      JSON.stringify([{ flow: flowAt(2), node_name: 'node-1', time: flowAt(2).time }, { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: 4 }, node_name: 'node-1', time: flowAt(2).time }]),
      JSON.stringify([{ flow: flowAt(3), node_name: 'node-1', time: flowAt(3).time }, { nonsense: true }]),
    ];
    server.on('connection', (peer) => peer.once('message', () => frames.forEach((frame) => peer.send(frame))));
    const seen: string[] = [];
    const stream = observeAgent({ node: 'node-1', transport: 'tcp', host: '127.0.0.1', port }, { follow: true }, (response) =>
      seen.push(response.flow?.uuid ?? `lost ${response.lost_events?.num_events_lost}`),
    );
    await expect(stream.done).rejects.toThrow(/batch with an item that is neither a flow nor lost events/);
    expect(seen).toEqual(['flow-1', 'flow-2', 'lost 4', 'flow-3']);
    server.close();
  });

  it('keeps following new flows', async () => {
    observer.publish(flowAt(1));
    const ws = new WebSocket(`ws+unix://${socketPath}:/v1/observe`);
    ws.on('open', () => ws.send(JSON.stringify({ number: 1, follow: true })));
    const uuids = await new Promise<string[]>((resolve) => {
      const seen: string[] = [];
      ws.on('message', (data) => {
        for (const response of JSON.parse(data.toString()) as { flow: Flow }[]) seen.push(response.flow.uuid);
        // The first flow proves the server holds the follower; later ones are live.
        if (seen.length === 1) observer.publish(flowAt(2));
        if (seen.length === 2) resolve(seen);
      });
    });
    ws.close();
    expect(uuids).toEqual(['flow-1', 'flow-2']);
  });

  it('answers a request that is not JSON with an error message and closes', async () => {
    const { messages, closeCode } = await observe('number=5');
    expect(messages).toEqual([{ error: expect.stringMatching(/^invalid observe request: not JSON/) }]);
    expect(closeCode).toBe(1008);
  });

  it('names the field of an invalid request', async () => {
    const { messages } = await observe(JSON.stringify({ number: -1, since: 'yesterday', colour: 'red' }));
    const error = (messages[0] as { error: string }).error;
    expect(error).toMatch(/number: expected a non-negative integer/);
    expect(error).toMatch(/since: expected an RFC 3339 time/);
    expect(error).toMatch(/colour/);
  });

  it('applies the whitelist and blacklist of the request before counting the last N', async () => {
    observer.publish({ ...flowAt(1), source: { namespace: 'default', pod_name: 'pod-to-a-5f7c' } });
    observer.publish({ ...flowAt(2), destination: { namespace: 'default', pod_name: 'pod-to-a-5f7c' } });
    observer.publish({ ...flowAt(3), destination: { namespace: 'default', pod_name: 'pod-to-a-5f7c' }, verdict: 'DROPPED' });
    observer.publish(flowAt(4));
    const request = { number: 2, whitelist: [{ source_pod: ['pod-to-a'] }, { destination_pod: ['pod-to-a'] }], blacklist: [{ verdict: ['DROPPED'] }] };
    const { messages, closeCode } = await observe(JSON.stringify(request));
    expect(messages.map((m) => (m as { flow: Flow }).flow.uuid)).toEqual(['flow-1', 'flow-2']);
    expect(closeCode).toBe(1000);
  });

  it('refuses an invalid filter with an error naming the field and the value, and keeps serving', async () => {
    const { messages, closeCode } = await observe(JSON.stringify({ whitelist: [{ source_ip: ['10.0.0.0/33'] }] }));
    expect(messages).toEqual([{ error: expect.stringContaining('whitelist[0].source_ip[0]: "10.0.0.0/33" is not an IP address or CIDR') }]);
    expect(closeCode).toBe(1008);
    observer.publish(flowAt(1));
    expect((await observe(JSON.stringify({}))).messages).toHaveLength(1);
  });

  it('refuses filters that are not a list', async () => {
    const { messages } = await observe(JSON.stringify({ blacklist: { verdict: ['DROPPED'] } }));
    expect((messages[0] as { error: string }).error).toMatch(/blacklist: expected a list of FlowFilter objects/);
  });

  it('refuses WebSocket upgrades on other paths', async () => {
    const ws = new WebSocket(`ws+unix://${socketPath}:/v1/other`);
    const failure = await new Promise<Error>((resolve) => ws.on('error', resolve));
    expect(failure.message).toMatch(/404/);
  });
});

describe('agent API: socket', () => {
  it('replaces a stale socket left by an agent that died', async () => {
    const stale = join(dir, 'stale.sock');
    await run(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]).catch(() => {});
    expect(statSync(stale).isSocket()).toBe(true);
    const second = createApiServer({ observer, endpoints: { register: () => { throw new Error('unused'); }, deregister: () => {}, list: () => [] } });
    await second.listen(stale);
    const saved = socketPath;
    socketPath = stale;
    expect((await http('GET', '/v1/status')).status).toBe(200);
    socketPath = saved;
    await second.close();
  });

  it('refuses to take over a socket another agent is listening on', async () => {
    const second = createApiServer({ observer, endpoints: { register: () => { throw new Error('unused'); }, deregister: () => {}, list: () => [] } });
    await expect(second.listen(socketPath)).rejects.toThrow(/another process is listening/);
    expect((await http('GET', '/v1/status')).status).toBe(200);
  });

  it('refuses to replace a file that is not a socket', async () => {
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'data');
    const second = createApiServer({ observer, endpoints: { register: () => { throw new Error('unused'); }, deregister: () => {}, list: () => [] } });
    await expect(second.listen(file)).rejects.toThrow(/exists and is not a socket/);
    expect(existsSync(file)).toBe(true);
  });
});

