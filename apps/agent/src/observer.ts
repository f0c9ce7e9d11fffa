import { compileFilters } from '@tycho/filters';
import {
  DEFAULT_RING_CAPACITY,
  epochNsFromTimestamp,
  FlowRing,
  timestampFromEpochMs,
  type Flow,
  type GetFlowsResponse,
  type LostEventSource,
  type ObserverStatus,
} from '@tycho/flow';
import type { GetFlowsRequest } from './observeRequestSchema.ts';

/** The longest delay a Node timer takes (2^31−1 ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the ring holds: a response ready to send, with its time for range checks. */
interface ObservedEvent {
  response: GetFlowsResponse;
  timeNs: bigint;
}

/** Where a GetFlows stream goes. */
export interface FlowStreamSink {
  send(response: GetFlowsResponse): void;
  /** The stream is complete (not called when the stream is closed by the caller). */
  end(): void;
  /** True while the receiver cannot take more; the stream waits for `resume()`. */
  isBlocked?(): boolean;
}

export interface FlowStream {
  /** Continue a followed stream that stopped because the sink was blocked. */
  resume(): void;
  close(): void;
}

export interface ObserverOptions {
  nodeName: string;
  ringCapacity?: number;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
  /** Sees every published flow and lost-events report (Hubble metrics count them here). */
  listener?: ObserverListener;
}

export interface ObserverListener {
  onFlow(flow: Flow): void;
  onLost(source: LostEventSource, count: number): void;
}

/**
 * Hubble's observer: keeps the node's flows in a `FlowRing` and serves
 * GetFlows over it — the last or first N, a time range, and following new
 * flows, telling followers the writer overtook how many events they lost.
 */
export class Observer {
  readonly nodeName: string;
  private readonly ring: FlowRing<ObservedEvent>;
  private readonly now: () => number;
  private readonly startedMs: number;
  private lostTotal = 0;
  private readonly listener: ObserverListener | undefined;

  constructor(options: ObserverOptions) {
    this.nodeName = options.nodeName;
    this.listener = options.listener;
    this.ring = new FlowRing<ObservedEvent>(options.ringCapacity ?? DEFAULT_RING_CAPACITY);
    this.now = options.now ?? Date.now;
    this.startedMs = this.now();
  }

  publish(flow: Flow): void {
    const timeNs = epochNsFromTimestamp(flow.time) ?? BigInt(this.now()) * 1_000_000n;
    this.ring.write({ response: { flow, node_name: this.nodeName, time: flow.time }, timeNs });
    this.listener?.onFlow(flow);
  }

  /** Records events lost before they reached the observer (e.g. a full kernel ring buffer). */
  reportLost(source: LostEventSource, count: number): void {
    if (count <= 0) return;
    this.lostTotal += count;
    this.listener?.onLost(source, count);
    const nowMs = this.now();
    const time = timestampFromEpochMs(nowMs);
    this.ring.write({
      response: { lost_events: { source, num_events_lost: count }, node_name: this.nodeName, time },
      timeNs: BigInt(nowMs) * 1_000_000n,
    });
  }

  status(): ObserverStatus {
    return {
      node_name: this.nodeName,
      num_flows: this.ring.numFlows,
      max_flows: this.ring.maxFlows,
      seen_flows: this.ring.seenFlows,
      uptime_ns: (this.now() - this.startedMs) * 1e6,
      lost_events: this.lostTotal,
    };
  }

  /**
   * Serves one GetFlows request: history first (oldest first), then, with
   * `follow`, new events as they are written. Without `number` and `follow`
   * everything in range is sent; `follow` without `number` or `since` starts
   * at the newest event. Flows must pass the request's whitelist/blacklist
   * (lost-event records always do), and `number` counts only flows that pass,
   * as in Hubble. The request must have been validated (`parseObserveRequest`).
   */
  getFlows(request: GetFlowsRequest, sink: FlowStreamSink): FlowStream {
    const sinceNs = request.since === undefined ? undefined : epochNsFromTimestamp(request.since);
    const untilNs = request.until === undefined ? undefined : epochNsFromTimestamp(request.until);
    const passes = compileFilters(request.whitelist, request.blacklist);
    const wanted = (event: ObservedEvent) =>
      (sinceNs === undefined || event.timeNs >= sinceNs) &&
      (untilNs === undefined || event.timeNs <= untilNs) &&
      (event.response.flow === undefined || passes(event.response.flow));

    const end = this.ring.writePosition;
    for (const event of this.history(request, wanted, end)) sink.send(event.response);
    if (!request.follow) {
      sink.end();
      return { resume: () => {}, close: () => {} };
    }

    let position = end;
    let closed = false;
    let untilTimer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (closed) return;
      close();
      sink.end();
    };
    const drain = () => {
      while (!closed && !sink.isBlocked?.()) {
        const read = this.ring.read(position);
        if (!read) return;
        position = read.next;
        if (read.lost) {
          sink.send({ lost_events: read.lost, node_name: this.nodeName, time: timestampFromEpochMs(this.now()) });
          continue;
        }
        if (untilNs !== undefined && read.entry.timeNs > untilNs) return finish();
        if (wanted(read.entry)) sink.send(read.entry.response);
      }
    };
    const stopListening = this.ring.onWrite(drain);
    const close = () => {
      closed = true;
      stopListening();
      if (untilTimer) clearTimeout(untilTimer);
    };
    if (untilNs !== undefined) {
      const untilMs = Number(untilNs / 1_000_000n);
      const waitForUntil = () => {
        const waitMs = untilMs - this.now();
        if (waitMs <= 0) return finish();
        // A Node timer holds at most 2^31−1 ms (24.8 days) and fires at once beyond: a later until is waited for in steps.
        untilTimer = setTimeout(waitForUntil, Math.min(waitMs, MAX_TIMER_MS));
        untilTimer.unref();
      };
      waitForUntil();
    }
    return { resume: drain, close };
  }

  /** The events before `end` a request asks for, oldest first. */
  private history(request: GetFlowsRequest, wanted: (event: ObservedEvent) => boolean, end: number): ObservedEvent[] {
    // As in protobuf, number 0 is the same as no number.
    const limit = request.number ? request.number : Number.POSITIVE_INFINITY;
    const wantsHistory = Boolean(request.number) || !request.follow || request.since !== undefined;
    if (!wantsHistory) return [];
    const start = this.ring.oldestPosition;
    const picked: ObservedEvent[] = [];
    let flows = 0;
    if (request.first) {
      for (let position = start; position < end && flows < limit; position++) {
        const event = this.ring.read(position)?.entry;
        if (!event || !wanted(event)) continue;
        picked.push(event);
        if (event.response.flow) flows++;
      }
      return picked;
    }
    for (let position = end - 1; position >= start && flows < limit; position--) {
      const event = this.ring.read(position)?.entry;
      if (!event || !wanted(event)) continue;
      picked.push(event);
      if (event.response.flow) flows++;
    }
    return picked.reverse();
  }
}
