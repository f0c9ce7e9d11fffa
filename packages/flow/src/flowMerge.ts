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

/**
 * One source of a k-way merge: entries `0 … length - 1` in time order (oldest
 * first, equal times allowed), each with its time in epoch nanoseconds.
 */
export interface TimeOrderedSource<T> {
  readonly length: number;
  timeNs(index: number): bigint;
  entry(index: number): T;
}

export interface TimeOrderedMergeOptions<T> {
  /** Take from the newest end ('last', the default) or the oldest ('first'). */
  from?: 'first' | 'last';
  /** Stop once this many taken entries `count` (all entries in range when absent). */
  limit?: number;
  /** Only entries at or after / at or before these times (epoch ns). */
  sinceNs?: bigint;
  untilNs?: bigint;
  /** Entries to take; default all. */
  accept?: (entry: T) => boolean;
  /** Which taken entries count towards `limit`; default all (lost-events records do not count as flows). */
  counts?: (entry: T) => boolean;
}

/** First index whose time is ≥ `ns` (`length` when none). */
function lowerBound<T>(source: TimeOrderedSource<T>, ns: bigint): number {
  let lo = 0;
  let hi = source.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (source.timeNs(mid) < ns) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose time is > `ns` (`length` when none). */
function upperBound<T>(source: TimeOrderedSource<T>, ns: bigint): number {
  let lo = 0;
  let hi = source.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (source.timeNs(mid) <= ns) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Merges time-ordered sources into one list, oldest first, in exactly the
 * order `mergeByTime` gives (by time; equal times by source, then by index),
 * walking only as far as it needs: with `from: 'last'` and a `limit`, from
 * the newest entry of every source backwards until `limit` entries that
 * `count` are taken, as Hubble Relay merges its nodes with a small heap. The
 * time range is found by binary search, so the cost is O(taken × log sources)
 * plus the entries `accept` turns down, not O(held × log held).
 */
export function mergeTimeOrdered<T>(sources: readonly TimeOrderedSource<T>[], options: TimeOrderedMergeOptions<T> = {}): T[] {
  const newestFirst = (options.from ?? 'last') === 'last';
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const { accept, counts } = options;
  // Per source: the next index to take (cursor) and where its range ends (stop, exclusive in walking direction).
  const cursor: number[] = [];
  const stop: number[] = [];
  const heads: bigint[] = [];
  // Heap of source numbers ordered by their head entry: newest (ties: later source) on top when walking
  // back, oldest (ties: earlier source) on top when walking forward.
  const heap: number[] = [];
  const before = (a: number, b: number): boolean => {
    const ta = heads[a]!;
    const tb = heads[b]!;
    if (ta !== tb) return newestFirst ? ta > tb : ta < tb;
    return newestFirst ? a > b : a < b;
  };
  const siftUp = (at: number): void => {
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!before(heap[at]!, heap[parent]!)) return;
      [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
      at = parent;
    }
  };
  const siftDown = (at: number): void => {
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) return;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, heap[at]!)) return;
      [heap[at], heap[child]] = [heap[child]!, heap[at]!];
      at = child;
    }
  };

  sources.forEach((source, s) => {
    const lo = options.sinceNs === undefined ? 0 : lowerBound(source, options.sinceNs);
    const hi = options.untilNs === undefined ? source.length : upperBound(source, options.untilNs);
    cursor[s] = newestFirst ? hi - 1 : lo;
    stop[s] = newestFirst ? lo - 1 : hi;
    heads[s] = 0n;
    if (lo >= hi) return;
    heads[s] = source.timeNs(cursor[s]!);
    heap.push(s);
    siftUp(heap.length - 1);
  });

  const taken: T[] = [];
  let counted = 0;
  const step = newestFirst ? -1 : 1;
  while (heap.length > 0 && counted < limit) {
    const s = heap[0]!;
    const source = sources[s]!;
    const index = cursor[s]!;
    const entry = source.entry(index);
    if (!accept || accept(entry)) {
      taken.push(entry);
      if (!counts || counts(entry)) counted++;
    }
    const next = index + step;
    cursor[s] = next;
    if (next === stop[s]) {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        siftDown(0);
      }
    } else {
      heads[s] = source.timeNs(next);
      siftDown(0);
    }
  }
  return newestFirst ? taken.reverse() : taken;
}

/** A list already in time order as a merge source. */
export function arraySource<T>(entries: readonly T[], timeNs: (entry: T) => bigint): TimeOrderedSource<T> {
  return { length: entries.length, timeNs: (index) => timeNs(entries[index]!), entry: (index) => entries[index]! };
}
