import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { unixAgent } from '@tycho/agent/client';
import type { GetFlowsResponse } from '@tycho/flow';
import { decodeObserveMessage, observeAgentItems } from './agentObserveStream.ts';
import { flowAt } from './testAgents.ts';

const flowResponse = (second: number): GetFlowsResponse => {
  const flow = flowAt('node-1', second);
  return { flow, node_name: 'node-1', time: flow.time };
};
const lost: GetFlowsResponse = { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: 3 }, node_name: 'node-1', time: '2024-01-01T00:00:09Z' };

/** A batch as the agent writes it: a JSON array of JSON.stringify'd responses. */
const agentBatch = (responses: GetFlowsResponse[]) => `[${responses.map((r) => JSON.stringify(r)).join(',')}]`;

function items(text: string) {
  const decoded = decodeObserveMessage(text);
  if (decoded.kind !== 'items') throw new Error(`expected items, got ${decoded.kind}: ${'error' in decoded ? decoded.error : ''}`);
  return decoded.items;
}

describe('decodeObserveMessage', () => {
  it('cuts an agent batch into its responses, each flow with its exact JSON text', () => {
    const responses = [flowResponse(1), flowResponse(2), flowResponse(3)];
    const decoded = items(agentBatch(responses));
    expect(decoded.map((item) => item.response)).toEqual(responses);
    expect(decoded.map((item) => item.flowJson)).toEqual(responses.map((r) => JSON.stringify(r.flow)));
  });

  it('keeps a flow whose strings hold brackets, quotes and the item separator', () => {
    const tricky = flowAt('node-1', 4, { uuid: 'a},{"flow":{"x":[1]}}],"node_name":"n","time":"t"}' });
    const decoded = items(agentBatch([{ flow: tricky, node_name: 'node-1', time: tricky.time }, flowResponse(5)]));
    expect(decoded.map((item) => item.response.flow?.uuid)).toEqual([tricky.uuid, 'node-1-5']);
    expect(decoded[0]?.flowJson).toBe(JSON.stringify(tricky));
  });

  it('parses a batch whole, without flow texts, when a flow nests an object that looks like an item', () => {
    const nested = { ...flowAt('node-1', 6), extra: [{ a: 1 }, { flow: { b: 2 } }] };
    const responses = [{ flow: nested, node_name: 'node-1', time: nested.time }, flowResponse(7)] as GetFlowsResponse[];
    const decoded = items(agentBatch(responses));
    expect(decoded.map((item) => item.response)).toEqual(responses);
    expect(decoded.map((item) => item.flowJson)).toEqual([undefined, undefined]);
  });

  it('parses other layouts whole: lost events, spacing, other key orders, a single response', () => {
    const withLost = [flowResponse(1), lost, flowResponse(2)];
    expect(items(agentBatch(withLost)).map((item) => item.response)).toEqual(withLost);
    expect(items(JSON.stringify([flowResponse(1)], null, 1)).map((item) => item.response)).toEqual([flowResponse(1)]);
    const reordered = { node_name: 'node-1', time: flowResponse(1).time, flow: flowResponse(1).flow };
    expect(items(JSON.stringify([reordered])).map((item) => item.response)).toEqual([reordered]);
    expect(items(JSON.stringify(flowResponse(8)))).toEqual([{ response: flowResponse(8), flowJson: undefined, flowBytes: undefined }]);
    expect(items('[]')).toEqual([]);
  });

  it('parses a batch whole when a node name needs escaping', () => {
    const flow = flowAt('node-"1"', 1);
    const response = { flow, node_name: 'node-"1"', time: flow.time };
    expect(items(agentBatch([response]))).toEqual([{ response, flowJson: undefined, flowBytes: undefined }]);
  });

  it('says what is wrong with a message that is not the observer protocol', () => {
    expect(decodeObserveMessage('[{"flow":{"uuid":"x"},"node_name":"n","time":"t"}')).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/not JSON/) });
    expect(decodeObserveMessage('[{"flow":{"uuid":"x"},"node_name":"n","time":"t"},{"nope":1}]')).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/neither a flow nor lost events/) });
    expect(decodeObserveMessage('{"hello":1}')).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/neither a flow nor lost events/) });
    expect(decodeObserveMessage('{"error":"invalid observe request: number: expected an integer"}')).toEqual({ kind: 'refusal', error: 'invalid observe request: number: expected an integer' });
  });
});

describe('observeAgentItems', () => {
  it('hands over every item of a burst of messages in order, all before the stream ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tycho-observe-items-'));
    const socketPath = join(dir, 'agent.sock');
    const server = createServer();
    const wss = new WebSocketServer({ server, path: '/v1/observe' });
    const messages = 40;
    wss.on('connection', (ws) => {
      ws.once('message', () => {
        // More messages at once than the follower reads ahead (it pauses the socket), then the end.
        for (let i = 0; i < messages; i++) ws.send(agentBatch([flowResponse(2 * i), flowResponse(2 * i + 1)]));
        ws.close(1000, 'done');
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const uuids: string[] = [];
      const stream = observeAgentItems(unixAgent('node-1', socketPath), { follow: true }, { onItem: (item) => uuids.push(item.response.flow!.uuid) });
      await stream.done;
      expect(uuids).toEqual(Array.from({ length: 2 * messages }, (_, i) => `node-1-${i}`));
    } finally {
      wss.close();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
