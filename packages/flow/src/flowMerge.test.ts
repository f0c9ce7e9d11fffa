import { describe, expect, it } from 'vitest';
import type { GetFlowsResponse } from './observerApi.ts';
import { arraySource, limitFlows, mergeByTime, mergeTimeOrdered } from './flowMerge.ts';

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

describe('mergeTimeOrdered', () => {
  const timeOf = (r: GetFlowsResponse) => BigInt(Date.parse(r.time)) * 1_000_000n;
  const at = (second: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toISOString();
  const isFlow = (r: GetFlowsResponse) => r.flow !== undefined;
  const sourcesOf = (perNode: GetFlowsResponse[][]) => perNode.map((list) => arraySource(list, timeOf));

  it('keeps the last N flows newest end first, with lost records among them, ties by node then position', () => {
    const perNode = [
      [response('a', at(1)), lost('a', at(2)), response('a', at(3)), response('a', at(5))],
      [response('b', at(2)), response('b', at(3)), lost('b', at(5)), response('b', at(6))],
    ];
    // Ties at 3 s and 5 s: node a before node b, as mergeByTime orders them.
    expect(ids(mergeTimeOrdered(sourcesOf(perNode), { limit: 3, counts: isFlow }))).toEqual([`a@${at(3)}`, `b@${at(3)}`, `a@${at(5)}`, `lost@${at(5)}`, `b@${at(6)}`].slice(1));
    expect(ids(mergeTimeOrdered(sourcesOf(perNode), { limit: 4, counts: isFlow }))).toEqual([`a@${at(3)}`, `b@${at(3)}`, `a@${at(5)}`, `lost@${at(5)}`, `b@${at(6)}`]);
    expect(ids(mergeTimeOrdered(sourcesOf(perNode), { from: 'first', limit: 2, counts: isFlow }))).toEqual([`a@${at(1)}`, `lost@${at(2)}`, `b@${at(2)}`]);
    expect(mergeTimeOrdered(sourcesOf(perNode), { limit: 0 })).toEqual([]);
    expect(mergeTimeOrdered([], { limit: 5 })).toEqual([]);
  });

  it('gives what mergeByTime, a filter, a time range and limitFlows give, for random sources with many ties', () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let trial = 0; trial < 300; trial++) {
      const nodes = 1 + random(5);
      const perNode: GetFlowsResponse[][] = [];
      for (let n = 0; n < nodes; n++) {
        const list: GetFlowsResponse[] = [];
        let second = random(3);
        const length = random(12);
        for (let i = 0; i < length; i++) {
          second += random(3); // repeats a time about a third of the time
          const item = random(5) === 0 ? lost(`n${n}`, at(second)) : response(`n${n}`, at(second));
          if (item.flow) item.flow.uuid = `n${n}#${i}`;
          list.push(item);
        }
        perNode.push(list);
      }
      const accept = (r: GetFlowsResponse) => !r.flow || !r.flow.uuid.endsWith('3');
      const sinceNs = random(2) ? timeOf(response('x', at(random(10)))) : undefined;
      const untilNs = random(2) ? timeOf(response('x', at(5 + random(20)))) : undefined;
      const limit = random(3) ? random(15) : undefined;
      const from = random(2) ? 'first' : 'last';
      const inRange = (r: GetFlowsResponse) => (sinceNs === undefined || timeOf(r) >= sinceNs) && (untilNs === undefined || timeOf(r) <= untilNs);
      const everything = mergeByTime(perNode.map((list) => list.filter((r) => inRange(r) && accept(r))));
      const expected = limit === undefined ? everything : limitFlows(everything, limit, from);
      const merged = mergeTimeOrdered(sourcesOf(perNode), {
        from,
        accept,
        counts: isFlow,
        ...(limit !== undefined ? { limit } : {}),
        ...(sinceNs !== undefined ? { sinceNs } : {}),
        ...(untilNs !== undefined ? { untilNs } : {}),
      });
      expect(merged).toEqual(expected);
    }
  });
});
