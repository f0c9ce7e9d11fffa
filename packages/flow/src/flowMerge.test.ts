import { describe, expect, it } from 'vitest';
import type { GetFlowsResponse } from './observerApi.ts';
import { limitFlows, mergeByTime } from './flowMerge.ts';

function response(node: string, time: string): GetFlowsResponse {
  return { flow: { time, uuid: `${node}@${time}`, verdict: 'FORWARDED', Type: 'L3_L4', node_name: node, event_type: { type: 4 } }, node_name: node, time };
}
function lost(node: string, time: string): GetFlowsResponse {
  return { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: 1 }, node_name: node, time };
}
const ids = (responses: GetFlowsResponse[]) => responses.map((r) => r.flow?.uuid ?? `lost@${r.time}`);

describe('mergeByTime', () => {
  it('orders by time to the nanosecond, whatever the number of fraction digits', () => {
    const merged = mergeByTime([
      [response('a', '2024-01-01T00:00:01Z'), response('a', '2024-01-01T00:00:01.000000002Z')],
      [response('b', '2024-01-01T00:00:01.000000001Z'), response('b', '2024-01-01T00:00:00.5Z')],
    ]);
    expect(ids(merged)).toEqual(['b@2024-01-01T00:00:00.5Z', 'a@2024-01-01T00:00:01Z', 'b@2024-01-01T00:00:01.000000001Z', 'a@2024-01-01T00:00:01.000000002Z']);
  });
});

describe('limitFlows', () => {
  const list = [response('a', '2024-01-01T00:00:01Z'), lost('a', '2024-01-01T00:00:02Z'), response('a', '2024-01-01T00:00:03Z'), response('a', '2024-01-01T00:00:04Z')];

  it('keeps the last N flows and the lost records among them', () => {
    expect(ids(limitFlows(list, 2, 'last'))).toEqual(['a@2024-01-01T00:00:03Z', 'a@2024-01-01T00:00:04Z']);
    expect(ids(limitFlows(list, 3, 'last'))).toEqual(['a@2024-01-01T00:00:01Z', 'lost@2024-01-01T00:00:02Z', 'a@2024-01-01T00:00:03Z', 'a@2024-01-01T00:00:04Z']);
  });

  it('keeps the first N flows', () => {
    expect(ids(limitFlows(list, 2, 'first'))).toEqual(['a@2024-01-01T00:00:01Z', 'lost@2024-01-01T00:00:02Z', 'a@2024-01-01T00:00:03Z']);
  });
});
