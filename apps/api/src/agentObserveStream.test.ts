import { describe, expect, it } from 'vitest';
import type { GetFlowsResponse } from '@tycho/flow';
import { decodeObserveMessage } from './agentObserveStream.ts';
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
  if (decoded.kind !== 'items') throw new Error(`expected items, got ${decoded.kind}: ${decoded.error}`);
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
    expect(items(JSON.stringify(flowResponse(8)))).toEqual([{ response: flowResponse(8), flowJson: undefined }]);
    expect(items('[]')).toEqual([]);
  });

  it('parses a batch whole when a node name needs escaping', () => {
    const flow = flowAt('node-"1"', 1);
    const response = { flow, node_name: 'node-"1"', time: flow.time };
    expect(items(agentBatch([response]))).toEqual([{ response, flowJson: undefined }]);
  });

  it('says what is wrong with a message that is not the observer protocol', () => {
    expect(decodeObserveMessage('[{"flow":{"uuid":"x"},"node_name":"n","time":"t"}')).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/not JSON/) });
    expect(decodeObserveMessage('[{"flow":{"uuid":"x"},"node_name":"n","time":"t"},{"nope":1}]')).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/neither a flow nor lost events/) });
    expect(decodeObserveMessage('{"hello":1}')).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/neither a flow nor lost events/) });
    expect(decodeObserveMessage('{"error":"invalid observe request: number: expected an integer"}')).toEqual({ kind: 'refusal', error: 'invalid observe request: number: expected an integer' });
  });
});
