import type { GetFlowsResponse } from './observerApi.ts';
import { epochNsFromTimestamp } from './timestamp.ts';

function timeOf(response: GetFlowsResponse): bigint {
  return epochNsFromTimestamp(response.flow?.time ?? response.time) ?? 0n;
}

/** Several nodes' responses as one list, oldest first (stable for equal times). */
export function mergeByTime(perNode: readonly GetFlowsResponse[][]): GetFlowsResponse[] {
  return perNode
    .flat()
    .map((response, index) => ({ response, index, time: timeOf(response) }))
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.index - b.index))
    .map((entry) => entry.response);
}

/** The last (or first) `count` flows of a time-ordered list, with the lost-event records among them. */
export function limitFlows(responses: GetFlowsResponse[], count: number, from: 'first' | 'last'): GetFlowsResponse[] {
  const ordered = from === 'first' ? responses : [...responses].reverse();
  const kept: GetFlowsResponse[] = [];
  let flows = 0;
  for (const response of ordered) {
    if (flows === count) break;
    kept.push(response);
    if (response.flow) flows++;
  }
  return from === 'first' ? kept : kept.reverse();
}

/**
 * Orders live responses from several nodes: holds them for a short window and
 * releases each window sorted by time.
 */
export function createTimeOrderedBuffer(emit: (response: GetFlowsResponse) => void, windowMs = 100) {
  let pending: GetFlowsResponse[] = [];
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = mergeByTime([pending]);
    pending = [];
    for (const response of batch) emit(response);
  }

  return {
    push(response: GetFlowsResponse): void {
      pending.push(response);
      timer ??= setTimeout(flush, windowMs);
    },
    flush,
  } as const;
}
