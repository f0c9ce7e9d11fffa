import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { HeldFlowCursor } from './agentRelay.ts';
import { BASE_MS, flowAt, kubeSystemFlow, startTestCluster, streamClient, waitFor, type TestCluster } from './testAgents.ts';

let cluster: TestCluster | undefined;
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await cluster?.close();
  cluster = undefined;
});

async function subscribed(c: TestCluster, message: Record<string, unknown> = {}) {
  const client = await streamClient(c.api.url);
  closers.push(client.close);
  client.send({ type: 'subscribe', ...message });
  await waitFor(() => client.batches().some((b) => b.reset), 'the first batch');
  return client;
}

const streamedUuids = (client: Awaited<ReturnType<typeof streamClient>>) => client.batches().flatMap((b) => b.flows.map((f) => f.uuid));

/** A raw `ws` client of the stream, for what streamClient hides: its close code and its socket. */
async function rawClient(c: TestCluster) {
  const ws = new WebSocket(`${c.api.url.replace(/^http/, 'ws')}/api/v1/stream`);
  const messages: { type: string; error?: string }[] = [];
  let closeCode: number | undefined;
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as { type: string; error?: string }));
  ws.on('close', (code) => (closeCode = code));
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  closers.push(() => ws.terminate());
  return { ws, messages, closeCode: () => closeCode };
}

/** Counts the relay's held-flow cursors and their reads, with the number of turns of the event loop seen at each read. */
function countCursorReads(c: TestCluster) {
  const relay = c.api.relay;
  const original = relay.heldFlowCursor.bind(relay);
  const counts = { cursors: 0, reads: 0, turnsAtReads: [] as number[] };
  let turns = 0;
  let counting = true;
  const turn = () => {
    turns++;
    if (counting) setImmediate(turn);
  };
  setImmediate(turn);
  closers.push(() => (counting = false));
  relay.heldFlowCursor = (query) => {
    counts.cursors++;
    const cursor = original(query);
    const counted: HeldFlowCursor = {
      read: (maxEntries) => {
        counts.reads++;
        counts.turnsAtReads.push(turns);
        return cursor.read(maxEntries);
      },
      get done() {
        return cursor.done;
      },
    };
    return counted;
  };
  return counts;
}

describe('/api/v1/stream', () => {
  it('sends new flows and the map changes they make in batches', async () => {
    cluster = await startTestCluster(['node-1', 'node-2']);
    const client = await subscribed(cluster);
    cluster.agents[0]?.publish(flowAt('node-1', 1));
    cluster.agents[1]?.publish(flowAt('node-2', 2));
    await waitFor(() => streamedUuids(client).length === 2, 'two streamed flows');
    expect(streamedUuids(client).sort()).toEqual(['node-1-1', 'node-2-2']);
    const batches = client.batches();
    expect(batches.flatMap((b) => b.map.cards.map((card) => card.title))).toEqual(expect.arrayContaining(['pod-to-a', 'echo-a']));
    expect(batches.flatMap((b) => b.map.links)).toContainEqual(expect.objectContaining({ port: 8080, protocol: 'TCP' }));
    expect(batches.at(-1)?.status).toMatchObject({ num_connected_nodes: 2 });
  });

  it('streams flows exactly as published, whether their batch is all ASCII (sent as bytes) or not (sent as text)', async () => {
    cluster = await startTestCluster(['node-1']);
    const client = await subscribed(cluster);
    const ascii = flowAt('node-1', 1);
    const accented = flowAt('node-1', 2, { uuid: 'café-2', destination: { identity: 301, namespace: 'default', labels: ['k8s:app=écho'], pod_name: 'écho-1' } });
    cluster.agents[0]?.publish(ascii);
    await waitFor(() => streamedUuids(client).length === 1, 'the ASCII flow');
    cluster.agents[0]?.publish(accented);
    await waitFor(() => streamedUuids(client).length === 2, 'the accented flow');
    expect(client.batches().flatMap((b) => b.flows)).toEqual([ascii, accented]);
  });

  it('starts with the whole map of the namespace, marked as a reset', async () => {
    cluster = await startTestCluster(['node-1']);
    cluster.agents[0]?.publish(flowAt('node-1', 1), kubeSystemFlow('node-1', 2));
    const c = cluster;
    await waitFor(async () => ((await c.get('/api/v1/service-map')).body as { links: unknown[] }).links.length === 2, 'two links');
    const client = await subscribed(c, { namespace: 'kube-system' });
    const first = client.batches()[0];
    expect(first?.reset).toBe(true);
    expect(first?.map.cards.map((card) => card.namespace)).toEqual(['kube-system', 'kube-system']);
    expect(first?.map.links).toHaveLength(1);
  });

  it('sends only the flows that pass the subscription’s filters and namespace', async () => {
    cluster = await startTestCluster(['node-1']);
    const client = await subscribed(cluster, { namespace: 'default', blacklist: [{ destination_port: ['9090'] }] });
    cluster.agents[0]?.publish(kubeSystemFlow('node-1', 1), flowAt('node-1', 2, { uuid: 'to-9090', l4: { TCP: { source_port: 1, destination_port: 9090 } } }), flowAt('node-1', 3));
    await waitFor(() => streamedUuids(client).includes('node-1-3'), 'the default flow');
    expect(streamedUuids(client)).toEqual(['node-1-3']);
  });

  it('switches to new filters when the client subscribes again', async () => {
    cluster = await startTestCluster(['node-1']);
    const client = await subscribed(cluster, { whitelist: [{ source_pod: ['kube-system/'] }] });
    cluster.agents[0]?.publish(flowAt('node-1', 1), kubeSystemFlow('node-1', 2));
    await waitFor(() => streamedUuids(client).includes('node-1-dns-2'), 'the kube-system flow');

    const before = client.messages.length;
    client.send({ type: 'subscribe', whitelist: [{ destination_port: ['8080'] }] });
    await waitFor(() => client.messages.slice(before).some((m) => m.type === 'batch' && m.reset), 'the reset batch of the new subscription');
    cluster.agents[0]?.publish(kubeSystemFlow('node-1', 3), flowAt('node-1', 4));
    await waitFor(() => streamedUuids(client).includes('node-1-4'), 'the 8080 flow');
    expect(streamedUuids(client)).toEqual(['node-1-dns-2', 'node-1-4']);
  });

  it('replays the held flows since a time first', async () => {
    cluster = await startTestCluster(['node-1']);
    cluster.agents[0]?.publish(flowAt('node-1', 1), flowAt('node-1', 5));
    const c = cluster;
    await waitFor(async () => ((await c.get('/api/v1/flows')).body as { flows: unknown[] }).flows.length === 2, 'two flows held');
    const client = await subscribed(c, { since: '2024-01-01T00:00:03Z' });
    expect(client.batches()[0]?.flows.map((f) => f.uuid)).toEqual(['node-1-5']);
  });

  it('answers a bad message with an error naming the field', async () => {
    cluster = await startTestCluster([]);
    const client = await streamClient(cluster.api.url);
    closers.push(client.close);
    client.send('subscribe please');
    client.send({ type: 'subscribe', whitelist: [{ source_ip: ['10.0.0.0/40'] }] });
    client.send({ type: 'subscribe', namespace: 'Bad Namespace' });
    client.send({ type: 'subscribe', colour: 'red' });
    client.send({ type: 'unsubscribe' });
    await waitFor(() => client.messages.length === 5, 'five answers');
    expect(client.messages.map((m) => (m.type === 'error' ? m.error : m.type))).toEqual([
      expect.stringMatching(/^message: not JSON/),
      expect.stringMatching(/^whitelist\[0\]\.source_ip\[0\]: "10\.0\.0\.0\/40" is not an IP address or CIDR/),
      expect.stringMatching(/^namespace: 'Bad Namespace' is not a namespace name \(lower-case letters, .*\); expected a namespace name or 'all'$/),
      'colour: unknown field; expected type, namespace, whitelist, blacklist, since',
      "type: expected 'subscribe'",
    ]);
  });

  it('answers hostile subscriptions with errors naming the field, and stays up for the next one', async () => {
    cluster = await startTestCluster(['node-1']);
    const client = await streamClient(cluster.api.url);
    closers.push(client.close);
    client.send({ type: 'subscribe', since: `1${'0'.repeat(400)}h` });
    const nested = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    client.send(`{"type":"subscribe","whitelist":[{"source_ip":[${nested}]}]}`);
    client.send(`{"type":"subscribe","whitelist":[${nested}]}`);
    client.send({ type: 'subscribe', namespace: 'a'.repeat(200_000) });
    client.send({ type: 'subscribe', since: '2024-02-30T00:00:00Z' });
    client.send({ type: 'subscribe', whitelist: [{ http_path: ['(a)\\1'] }] });
    await waitFor(() => client.messages.length === 6, 'six answers');
    const errors = client.messages.map((m) => (m.type === 'error' ? m.error : m.type));
    expect(errors).toEqual([
      expect.stringMatching(/^since: '1000.*…' reaches back before 1970-01-01T00:00:00Z/),
      expect.stringMatching(/^whitelist\[0\]\.source_ip\[0\]: \[\[\[.* is not a string/),
      expect.stringMatching(/^whitelist\[0\]: \[\[\[.* is not a FlowFilter object/),
      expect.stringMatching(/^namespace: 'a{40}…' is 200000 characters long; a namespace name has at most 63/),
      "since: '2024-02-30T00:00:00Z' is not a real time: day 30 does not exist in 2024-02 (it has 29 days)",
      expect.stringMatching(/^whitelist\[0\]\.http_path\[0\]: .* is not a valid regular expression \(RE2 syntax, as Hubble's\): invalid escape sequence/),
    ]);
    for (const error of errors) expect(error.length).toBeLessThan(300);
    client.send({ type: 'subscribe' });
    await waitFor(() => client.batches().some((b) => b.reset), 'the batch of a good subscription after the bad ones');
  });

  it('drops the oldest pending flows of a client that falls behind and says how many', async () => {
    cluster = await startTestCluster(['node-1'], { stream: { batchMs: 500, maxPendingFlows: 2 } });
    const client = await subscribed(cluster);
    const flows = Array.from({ length: 50 }, (_, i) => flowAt('node-1', i + 1));
    cluster.agents[0]?.publish(...flows);
    const dropped = () => client.batches().reduce((n, b) => n + (b.dropped ?? 0), 0);
    await waitFor(() => streamedUuids(client).length + dropped() === 50, 'every flow sent or counted as dropped');
    expect(client.batches().every((b) => b.flows.length <= 2)).toBe(true);
    expect(dropped()).toBeGreaterThan(0);
    expect(streamedUuids(client).at(-1)).toBe('node-1-50');
  });

  it('sends every subscriber the same flows, in time order across nodes, as well-formed batches', async () => {
    cluster = await startTestCluster(['node-1', 'node-2']);
    const one = await subscribed(cluster);
    const two = await subscribed(cluster, { namespace: 'default' });
    const other = await subscribed(cluster, { namespace: 'kube-system' });
    // Published node by node, so the relay sees node-2's older flows after node-1's newer ones.
    cluster.agents[0]?.publish(flowAt('node-1', 2), flowAt('node-1', 4));
    cluster.agents[1]?.publish(flowAt('node-2', 1), flowAt('node-2', 3));
    await waitFor(() => streamedUuids(one).length === 4 && streamedUuids(two).length === 4, 'four flows to both');
    const flowsOf = (client: typeof one) => client.batches().flatMap((b) => b.flows);
    expect(flowsOf(one)).toEqual(flowsOf(two));
    expect(flowsOf(one)).toContainEqual(flowAt('node-1', 2));
    if (one.batches().filter((b) => b.flows.length > 0).length === 1) expect(streamedUuids(one)).toEqual(['node-2-1', 'node-1-2', 'node-2-3', 'node-1-4']);
    expect(streamedUuids(other)).toEqual([]);
  });

  it('answers a flood of subscribes with an error and closes it with 1008, preparing no more than its burst, while another client keeps getting flows', async () => {
    // A clock that stands still: the flood's token bucket never refills.
    cluster = await startTestCluster(['node-1'], { stream: { messageBurst: 20, now: () => BASE_MS + 60_000 } });
    cluster.agents[0]?.publish(...Array.from({ length: 40 }, (_, i) => flowAt('node-1', i + 1)));
    const c = cluster;
    await waitFor(() => c.api.relay.heldFlows({ sinceNs: 0n }).length === 40, 'forty flows held');
    const leases = { count: 0 };
    const lease = c.api.serviceMaps.lease.bind(c.api.serviceMaps);
    c.api.serviceMaps.lease = (...args) => {
      leases.count++;
      return lease(...args);
    };
    const reads = countCursorReads(c);
    const calm = await subscribed(c);

    const flood = await rawClient(c);
    for (let i = 0; i < 5000; i++) {
      flood.ws.send(JSON.stringify({ type: 'subscribe', since: '2024-01-01T00:00:00Z', whitelist: [{ source_port: [String(40_000 + (i % 40))] }] }));
    }
    await waitFor(() => flood.closeCode() !== undefined, 'the flooding client closed');
    expect(flood.closeCode()).toBe(1008);
    expect(flood.messages.filter((m) => m.type === 'error').map((m) => m.error)).toEqual([
      'message rate: more than 20 messages at once or 10 a second; messages are ignored until the rate drops',
    ]);
    expect(leases.count).toBeLessThanOrEqual(1 + 20);
    expect(reads.cursors).toBeLessThanOrEqual(20);

    c.agents[0]?.publish(flowAt('node-1', 100));
    await waitFor(() => streamedUuids(calm).includes('node-1-100'), 'the calm client’s flow');
    await waitFor(() => c.api.hub.clientCount === 1 && c.api.serviceMaps.filteredMapCount === 0, 'only the calm client left, no filtered map');
  });

  it('prepares a since subscription a chunk per turn of the event loop, and only the newest of subscribes sent together', async () => {
    cluster = await startTestCluster(['node-1'], { stream: { replayChunkEntries: 4 }, serviceMaps: { chunkEntries: 4 } });
    cluster.agents[0]?.publish(...Array.from({ length: 40 }, (_, i) => flowAt('node-1', i + 1)));
    const c = cluster;
    await waitFor(() => c.api.relay.heldFlows({ sinceNs: 0n }).length === 40, 'forty flows held');
    const reads = countCursorReads(c);
    const client = await streamClient(c.api.url);
    closers.push(client.close);
    client.send({ type: 'subscribe', since: '2024-01-01T00:00:00Z', whitelist: [{ source_port: ['40001'] }] });
    client.send({ type: 'subscribe', since: '2024-01-01T00:00:00Z', whitelist: [{ source_port: ['40002'] }] });
    client.send({ type: 'subscribe', since: '2024-01-01T00:00:00Z', namespace: 'default' });
    await waitFor(() => client.batches().some((b) => b.reset), 'the reset batch');
    c.agents[0]?.publish(flowAt('node-1', 41));
    await waitFor(() => streamedUuids(client).includes('node-1-41'), 'a live flow after the replay');

    expect(client.batches().filter((b) => b.reset)).toHaveLength(1);
    expect(streamedUuids(client)).toEqual(Array.from({ length: 41 }, (_, i) => `node-1-${i + 1}`));
    // The newest subscribe's map and its replay each read the 40 held flows 4 at a time (and once more to find the end), a read per turn.
    expect(reads.reads).toBeGreaterThanOrEqual(2 * 11);
    expect(new Set(reads.turnsAtReads).size).toBeGreaterThanOrEqual(2 * 10);
    expect(c.api.serviceMaps.filteredMapCount).toBe(1);
  });

  it('forgets slow clients as soon as they close: no clients, pending flows or map leases are left', async () => {
    cluster = await startTestCluster(['node-1'], { stream: { batchMs: 10 } });
    const c = cluster;
    const slow = [];
    for (let i = 0; i < 20; i++) {
      const client = await rawClient(c);
      client.ws.send(JSON.stringify({ type: 'subscribe', whitelist: [{ source_port: [String(40_000 + i)] }, { destination_port: ['8080'] }] }));
      slow.push(client);
    }
    await waitFor(() => c.api.hub.state().subscriptions === 20, 'twenty subscriptions');
    expect(c.api.serviceMaps.filteredMapCount).toBe(20);
    // They stop reading: the server's answer to their close stays unread, so their sockets stay open.
    for (const client of slow) (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    c.agents[0]?.publish(...Array.from({ length: 100 }, (_, i) => flowAt('node-1', i + 1)));
    await waitFor(() => c.api.hub.state().pendingFlows === 0, 'the flows sent');
    for (const client of slow) client.ws.close();

    await waitFor(() => c.api.hub.clientCount === 0, 'no clients left');
    expect(c.api.hub.state()).toEqual({ pendingFlows: 0, subscriptions: 0, preparing: 0 });
    expect(c.api.serviceMaps.filteredMapCount).toBe(0);
  });

  it('keeps at most maxFilteredMaps distinct filtered maps, and tells the subscriber who would make one more', async () => {
    cluster = await startTestCluster(['node-1'], { serviceMaps: { maxFilteredMaps: 2 } });
    const c = cluster;
    await subscribed(c, { whitelist: [{ source_port: ['1'] }] });
    await subscribed(c, { whitelist: [{ source_port: ['2'] }] });
    await subscribed(c, { whitelist: [{ source_port: ['1'] }] });
    const third = await streamClient(c.api.url);
    closers.push(third.close);
    third.send({ type: 'subscribe', whitelist: [{ source_port: ['3'] }] });
    await waitFor(() => third.messages.length > 0, 'an answer');
    expect(third.messages).toEqual([
      { type: 'error', error: 'filters: 2 distinct filter sets are in use by stream subscriptions, the most the API keeps; use filters another subscription uses, or try again later' },
    ]);
    expect(c.api.serviceMaps.filteredMapCount).toBe(2);
  });
});
