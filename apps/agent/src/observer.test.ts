import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Flow, GetFlowsResponse } from '@tycho/flow';
import type { GetFlowsRequest } from './observeRequestSchema.ts';
import { Observer, type FlowStreamSink } from './observer.ts';

const T0 = Date.UTC(2024, 0, 1);

function flowAt(second: number): Flow {
  return {
    time: new Date(T0 + second * 1000).toISOString(),
    uuid: `flow-${second}`,
    verdict: 'FORWARDED',
    Type: 'L3_L4',
    node_name: 'node-1',
    event_type: { type: 4 },
  };
}

function observerWith(seconds: number[], ringCapacity = 15): Observer {
  const observer = new Observer({ nodeName: 'node-1', ringCapacity, now: () => T0 + 3_600_000 });
  for (const second of seconds) observer.publish(flowAt(second));
  return observer;
}

function collect(observer: Observer, request: GetFlowsRequest, blocked?: () => boolean) {
  const received: GetFlowsResponse[] = [];
  const state = { ended: false };
  const sink: FlowStreamSink = { send: (r) => received.push(r), end: () => (state.ended = true), ...(blocked ? { isBlocked: blocked } : {}) };
  const stream = observer.getFlows(request, sink);
  const uuids = () => received.map((r) => r.flow?.uuid ?? `lost:${r.lost_events?.source}:${r.lost_events?.num_events_lost}`);
  return { received, state, stream, uuids };
}

const at = (second: number) => new Date(T0 + second * 1000).toISOString();

describe('Observer.getFlows', () => {
  it('sends everything, oldest first, when neither number nor follow is set', () => {
    const { uuids, state } = collect(observerWith([1, 2, 3]), {});
    expect(uuids()).toEqual(['flow-1', 'flow-2', 'flow-3']);
    expect(state.ended).toBe(true);
  });

  it('sends the last N flows, oldest first', () => {
    expect(collect(observerWith([1, 2, 3, 4]), { number: 2 }).uuids()).toEqual(['flow-3', 'flow-4']);
  });

  it('sends the first N flows with first', () => {
    expect(collect(observerWith([1, 2, 3, 4]), { number: 2, first: true }).uuids()).toEqual(['flow-1', 'flow-2']);
  });

  it('restricts to since/until inclusive', () => {
    expect(collect(observerWith([1, 2, 3, 4, 5]), { since: at(2), until: at(4) }).uuids()).toEqual(['flow-2', 'flow-3', 'flow-4']);
  });

  it('applies the last N inside the time range', () => {
    expect(collect(observerWith([1, 2, 3, 4, 5]), { number: 2, until: at(3) }).uuids()).toEqual(['flow-2', 'flow-3']);
  });

  it('follows new flows after the last N and stays open', () => {
    const observer = observerWith([1, 2, 3]);
    const { uuids, state } = collect(observer, { number: 1, follow: true });
    observer.publish(flowAt(4));
    expect(uuids()).toEqual(['flow-3', 'flow-4']);
    expect(state.ended).toBe(false);
  });

  it('follows from now when follow comes without number or since', () => {
    const observer = observerWith([1, 2]);
    const { uuids } = collect(observer, { follow: true });
    observer.publish(flowAt(3));
    expect(uuids()).toEqual(['flow-3']);
  });

  it('stops sending to a closed stream', () => {
    const observer = observerWith([]);
    const { uuids, stream } = collect(observer, { follow: true });
    stream.close();
    observer.publish(flowAt(1));
    expect(uuids()).toEqual([]);
  });

  it('ends a followed stream at the first flow past until', () => {
    const observer = new Observer({ nodeName: 'node-1', now: () => T0 });
    const { uuids, state } = collect(observer, { follow: true, since: at(0), until: at(5) });
    observer.publish(flowAt(4));
    observer.publish(flowAt(6));
    observer.publish(flowAt(5));
    expect(uuids()).toEqual(['flow-4']);
    expect(state.ended).toBe(true);
  });

  it('ends a followed stream right after the history when until has passed', () => {
    const { uuids, state } = collect(observerWith([1, 2]), { follow: true, since: at(0), until: at(1) });
    expect(uuids()).toEqual(['flow-1']);
    expect(state.ended).toBe(true);
  });

  describe('with until 30 days ahead (beyond the 24.8 days a Node timer holds)', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('keeps following until then, and ends then', () => {
      vi.useFakeTimers({ now: T0 });
      const observer = new Observer({ nodeName: 'node-1', now: () => Date.now() });
      const thirtyDaysMs = 30 * 86_400_000;
      const { state } = collect(observer, { follow: true, until: new Date(T0 + thirtyDaysMs).toISOString() });
      vi.advanceTimersByTime(1000);
      expect(state.ended).toBe(false);
      vi.advanceTimersByTime(thirtyDaysMs - 2000);
      expect(state.ended).toBe(false);
      vi.advanceTimersByTime(1000);
      expect(state.ended).toBe(true);
    });
  });

  it('tells a follower that fell behind how many flows the ring overwrote', () => {
    const observer = observerWith([], 3);
    let blocked = false;
    const { uuids, stream } = collect(observer, { follow: true }, () => blocked);
    observer.publish(flowAt(1));
    blocked = true;
    for (let s = 2; s <= 7; s++) observer.publish(flowAt(s));
    blocked = false;
    stream.resume();
    expect(uuids()).toEqual(['flow-1', 'lost:HUBBLE_RING_BUFFER:3', 'flow-5', 'flow-6', 'flow-7']);
  });

  it('stores datapath losses as PERF_EVENT_RING_BUFFER records and counts them in status', () => {
    const observer = observerWith([1]);
    observer.reportLost('PERF_EVENT_RING_BUFFER', 7);
    expect(collect(observer, {}).uuids()).toEqual(['flow-1', 'lost:PERF_EVENT_RING_BUFFER:7']);
    expect(observer.status()).toMatchObject({ node_name: 'node-1', num_flows: 2, max_flows: 15, seen_flows: 2, lost_events: 7 });
  });

  it('sends only flows that match a whitelist filter', () => {
    const observer = observerWith([1, 2, 3]);
    observer.publish({ ...flowAt(4), verdict: 'DROPPED' });
    expect(collect(observer, { whitelist: [{ verdict: ['DROPPED'] }] }).uuids()).toEqual(['flow-4']);
  });

  it('leaves out flows that match a blacklist filter', () => {
    expect(collect(observerWith([1, 2, 3]), { blacklist: [{ uuid: ['flow-2'] }] }).uuids()).toEqual(['flow-1', 'flow-3']);
  });

  it('counts only matching flows towards the last N', () => {
    const observer = observerWith([1, 2]);
    observer.publish({ ...flowAt(3), verdict: 'DROPPED' });
    observer.publish(flowAt(4));
    expect(collect(observer, { number: 2, whitelist: [{ verdict: ['FORWARDED'] }] }).uuids()).toEqual(['flow-2', 'flow-4']);
  });

  it('counts only matching flows towards the first N', () => {
    const observer = observerWith([1]);
    observer.publish({ ...flowAt(2), verdict: 'DROPPED' });
    observer.publish(flowAt(3));
    expect(collect(observer, { number: 2, first: true, whitelist: [{ verdict: ['FORWARDED'] }] }).uuids()).toEqual(['flow-1', 'flow-3']);
  });

  it('filters followed flows too', () => {
    const observer = observerWith([]);
    const { uuids } = collect(observer, { follow: true, blacklist: [{ verdict: ['DROPPED'] }] });
    observer.publish({ ...flowAt(1), verdict: 'DROPPED' });
    observer.publish(flowAt(2));
    expect(uuids()).toEqual(['flow-2']);
  });

  it('keeps lost-event records whatever the filters say', () => {
    const observer = observerWith([1]);
    observer.reportLost('PERF_EVENT_RING_BUFFER', 2);
    expect(collect(observer, { whitelist: [{ verdict: ['DROPPED'] }] }).uuids()).toEqual(['lost:PERF_EVENT_RING_BUFFER:2']);
  });

  it('labels every response with the node and the flow time', () => {
    const [response] = collect(observerWith([1]), {}).received;
    expect(response).toEqual({ flow: flowAt(1), node_name: 'node-1', time: at(1) });
  });
});
