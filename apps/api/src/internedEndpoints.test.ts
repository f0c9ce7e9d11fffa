import { describe, expect, it } from 'vitest';
import { createEndpointInterner } from '@tycho/agent/client';
import type { Flow, GetFlowsResponse } from '@tycho/flow';
import { decodeObserveMessage, type ObservedItem } from './agentObserveStream.ts';
import { InternedEndpoints } from './internedEndpoints.ts';
import { flowAt, kubeSystemFlow } from './testAgents.ts';

const response = (flow: Flow): GetFlowsResponse => ({ flow, node_name: 'node-1', time: flow.time });
const lost: GetFlowsResponse = { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: 3 }, node_name: 'node-1', time: '2024-01-01T00:00:09Z' };

/** A batch in the plain encoding, as the agent writes it. */
const plainBatch = (responses: GetFlowsResponse[]) => `[${responses.map((r) => JSON.stringify(r)).join(',')}]`;

/** What an interned connection sends for these batches: each batch, preceded by its definitions when it has new endpoints. */
function internedMessages(batches: GetFlowsResponse[][], maxEndpoints?: number): string[] {
  const interner = createEndpointInterner(maxEndpoints);
  const messages: string[] = [];
  for (const batch of batches) {
    const text = `[${batch.map((r) => interner.encode(r)).join(',')}]`;
    const definitions = interner.takeDefinitions();
    if (definitions !== undefined) messages.push(definitions);
    messages.push(text);
  }
  return messages;
}

/** The items a connection hands over for `messages`, decoded with one endpoint table, as the relay does. */
function decodeAll(messages: string[], endpoints = new InternedEndpoints()): ObservedItem[] {
  const items: ObservedItem[] = [];
  for (const message of messages) {
    const decoded = decodeObserveMessage(message, endpoints);
    if (decoded.kind === 'items') items.push(...decoded.items);
    else if (decoded.kind !== 'definitions') throw new Error(`${decoded.kind}: ${decoded.error}`);
  }
  return items;
}

/** The same, in the plain encoding. */
const decodePlain = (batches: GetFlowsResponse[][]) => batches.flatMap((batch) => decodeAll([plainBatch(batch)]));

const relabelled = (second: number) =>
  flowAt('node-1', second, { destination: { identity: 301, namespace: 'default', labels: ['k8s:app=echo-a', 'k8s:version=v2'], pod_name: 'echo-a-1', workloads: [{ name: 'echo-a', kind: 'Deployment' }] } });

describe('interned endpoints on /v1/observe', () => {
  it('gives the same responses and byte-identical flow texts as the plain encoding, lost events included', () => {
    const batches = [
      [response(flowAt('node-1', 1)), response(flowAt('node-1', 2)), response(kubeSystemFlow('node-1', 3))],
      [response(flowAt('node-1', 4)), lost, response(flowAt('node-1', 5))],
      [response(flowAt('node-1', 6, { source: undefined })), response(flowAt('node-1', 7, { destination: undefined, is_reply: true }))],
    ];
    const messages = internedMessages(batches);
    // Definitions only where endpoints are new: before the first batch (four endpoints), not before the others.
    expect(messages.filter((m) => m.startsWith('{"endpoints"'))).toHaveLength(1);
    expect(JSON.parse(messages[0]!)).toEqual({ endpoints: [0, 1, 2, 3].map((id) => [id, expect.any(Object)]) });
    expect(messages[1]!.length).toBeLessThan(plainBatch(batches[0]!).length * 0.75);

    const interned = decodeAll(messages);
    const plain = decodePlain(batches);
    expect(interned.map((item) => item.response)).toEqual(plain.map((item) => item.response));
    expect(interned.map((item) => item.flowJson)).toEqual(plain.map((item) => item.flowJson));
    // Cut batches carry each flow's text; the batch with lost events is parsed whole, as in the plain encoding.
    expect(interned.map((item) => item.flowJson !== undefined)).toEqual([true, true, true, false, false, false, true, true]);
  });

  it('gives each cut flow its text as bytes too, spliced the same way, when the message is all ASCII', () => {
    const batches = [[response(flowAt('node-1', 1)), response(flowAt('node-1', 2, { source: undefined }))], [response(flowAt('node-1', 3, { uuid: 'ü' }))]];
    const endpoints = new InternedEndpoints();
    const decoded = internedMessages(batches).map((message) => decodeObserveMessage(message, endpoints, Buffer.from(message)));
    const items = decoded.flatMap((d) => (d.kind === 'items' ? d.items : []));
    expect(items.slice(0, 2).map((item) => Buffer.concat(item.flowBytes!).toString())).toEqual(items.slice(0, 2).map((item) => item.flowJson));
    expect(items[0]!.flowBytes).toHaveLength(5);
    // Not ASCII: a character is more than one byte, so the text's offsets are not the bytes'.
    expect(items[2]).toMatchObject({ flowJson: JSON.stringify(flowAt('node-1', 3, { uuid: 'ü' })), flowBytes: undefined });
    const plain = plainBatch([response(flowAt('node-1', 4))]);
    const plainDecoded = decodeObserveMessage(plain, undefined, Buffer.from(plain));
    const plainBytes = plainDecoded.kind === 'items' ? plainDecoded.items[0]?.flowBytes : undefined;
    expect(plainBytes).toHaveLength(1);
    expect(Buffer.from(plainBytes![0]!).equals(Buffer.from(JSON.stringify(flowAt('node-1', 4))))).toBe(true);
  });

  it('gives flows that share an endpoint one frozen endpoint object', () => {
    const [first, second] = decodeAll(internedMessages([[response(flowAt('node-1', 1))], [response(flowAt('node-1', 2))]]));
    expect(second!.response.flow!.source).toBe(first!.response.flow!.source);
    expect(Object.isFrozen(first!.response.flow!.source)).toBe(true);
    expect(Object.isFrozen(first!.response.flow!.source!.labels)).toBe(true);
  });

  it('defines an endpoint again when its labels change, and each flow keeps the labels it had', () => {
    const batches = [[response(flowAt('node-1', 1))], [response(relabelled(2)), response(flowAt('node-1', 3))]];
    const messages = internedMessages(batches);
    expect(messages.map((m) => m.slice(0, 14))).toEqual(['{"endpoints":[', '[{"flow":{"tim', '{"endpoints":[', '[{"flow":{"tim']);
    expect(JSON.parse(messages[2]!)).toEqual({ endpoints: [[2, relabelled(2).destination]] });
    const interned = decodeAll(messages);
    expect(interned.map((item) => item.response.flow?.destination?.labels)).toEqual([['k8s:app=echo-a'], ['k8s:app=echo-a', 'k8s:version=v2'], ['k8s:app=echo-a']]);
    expect(interned.map((item) => item.flowJson)).toEqual(decodePlain(batches).map((item) => item.flowJson));
  });

  it('starts the ids over when the table is full, and the relay forgets the old ones', () => {
    const batches = [1, 2, 3, 4].map((second) => [response(flowAt('node-1', second, { source: { identity: 1000 + second, pod_name: `client-${second}` } }))]);
    const messages = internedMessages(batches, 2);
    expect(messages.filter((m) => m.startsWith('{"reset_endpoints":true,"endpoints":[[0,'))).toHaveLength(3);
    const endpoints = new InternedEndpoints();
    expect(decodeAll(messages, endpoints).map((item) => item.flowJson)).toEqual(decodePlain(batches).map((item) => item.flowJson));
    // After the last reset only ids 0 and 1 are defined.
    expect(decodeObserveMessage('[{"flow":{"uuid":"x","source":2},"node_name":"node-1","time":"t"}]', endpoints)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/source 2, an endpoint it has not defined/) });
  });

  it('refuses a flow that refers to an undefined endpoint, and hands over none of its message', () => {
    const endpoints = new InternedEndpoints();
    const [definitions, batch] = internedMessages([[response(flowAt('node-1', 1))]]);
    expect(decodeObserveMessage(definitions!, endpoints)).toEqual({ kind: 'definitions' });
    const bad = batch!.slice(0, -1) + ',' + batch!.slice(1).replace('"destination":1', '"destination":7');
    expect(decodeObserveMessage(bad, endpoints)).toEqual({ kind: 'invalid', error: 'sent flow node-1-1 with destination 7, an endpoint it has not defined' });
    // The table is unchanged: the good batch still decodes.
    expect(decodeObserveMessage(batch!, endpoints)).toMatchObject({ kind: 'items', items: [{ flowJson: JSON.stringify(flowAt('node-1', 1)) }] });
  });

  it('refuses bad definitions whole, and definitions nobody asked for', () => {
    const endpoints = new InternedEndpoints();
    expect(decodeObserveMessage('{"endpoints":[[0,{"pod_name":"a"}],[70000,{"pod_name":"b"}]]}', endpoints)).toEqual({
      kind: 'invalid',
      error: 'sent endpoint id 70000; expected an integer from 0 to 65535',
    });
    expect(decodeObserveMessage('{"endpoints":[[1,["not","an","object"]]]}', endpoints)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/endpoint 1 as .*expected an object/) });
    expect(decodeObserveMessage('{"endpoints":[{"id":1}]}', endpoints)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/not \[id, endpoint\]/) });
    expect(decodeObserveMessage('{"reset_endpoints":"yes","endpoints":[]}', endpoints)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/reset_endpoints "yes"/) });
    // Nothing of the first message was defined.
    expect(decodeObserveMessage('[{"flow":{"uuid":"x","source":0},"node_name":"node-1","time":"t"}]', endpoints)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/source 0, an endpoint it has not defined/) });
    expect(decodeObserveMessage('{"endpoints":[[0,{"pod_name":"a"}]]}')).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/not asked for/) });
  });

  it('refuses a flow whose text holds its ref twice, rather than guess where the endpoint goes', () => {
    const endpoints = new InternedEndpoints();
    expect(decodeObserveMessage('{"endpoints":[[0,{"pod_name":"a"}]]}', endpoints)).toEqual({ kind: 'definitions' });
    const twice = '[{"flow":{"uuid":"x","l7":{"source":0},"source":0},"node_name":"node-1","time":"t"}]';
    expect(decodeObserveMessage(twice, endpoints)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/does not hold "source":0 exactly once/) });
    const once = '[{"flow":{"uuid":"x","l7":{"source":10},"source":0},"node_name":"node-1","time":"t"}]';
    expect(decodeObserveMessage(once, endpoints)).toMatchObject({ kind: 'items', items: [{ flowJson: '{"uuid":"x","l7":{"source":10},"source":{"pod_name":"a"}}' }] });
  });
});
