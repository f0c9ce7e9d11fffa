// The bounded history of changes that watches are served from, like kube-apiserver's watch cache:
// every write gets the next cluster-wide resourceVersion and is kept here until `capacity` newer
// events push it out. A watch from a resourceVersion still covered gets every later event exactly
// once; one older than the history gets 410 Expired and must relist.
import type { KubeObject } from './kubeObject.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  resourceVersion: number;
  type: WatchEventType;
  storageKey: string;
  namespace: string;
  name: string;
  object: KubeObject;
  /** The object before a MODIFIED or DELETED event, so selector watches can tell "left the selection". */
  previous?: KubeObject;
}

export type WatchListener = (event: StoredEvent) => void;

export function createWatchCache(options: { capacity: number; startResourceVersion: number }) {
  const events: StoredEvent[] = [];
  let head = 0;
  /** Every event after this resourceVersion is still held. */
  let compactedThrough = options.startResourceVersion;
  const listeners = new Set<WatchListener>();

  function append(event: StoredEvent): void {
    events.push(event);
    if (events.length - head > options.capacity) {
      compactedThrough = events[head]?.resourceVersion ?? compactedThrough;
      head += 1;
      // Drop the consumed prefix now and then instead of shifting on every write.
      if (head > options.capacity) {
        events.splice(0, head);
        head = 0;
      }
    }
    for (const listener of listeners) listener(event);
  }

  /** Events after `resourceVersion`, in order; `expired` when some of them are no longer held. */
  function eventsAfter(resourceVersion: number): StoredEvent[] | 'expired' {
    if (resourceVersion < compactedThrough) return 'expired';
    let low = head;
    let high = events.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((events[middle]?.resourceVersion ?? 0) <= resourceVersion) low = middle + 1;
      else high = middle;
    }
    return events.slice(low);
  }

  function subscribe(listener: WatchListener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  return {
    append,
    eventsAfter,
    subscribe,
    get oldestResourceVersion(): number {
      return compactedThrough;
    },
    get watcherCount(): number {
      return listeners.size;
    },
  } as const;
}

export type WatchCache = ReturnType<typeof createWatchCache>;
