import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FlowPredicate } from '@tycho/filters';
import type { Flow } from '@tycho/flow';
import { ServiceMap, type ServiceMapSnapshot } from '@tycho/servicemap';
import type { AgentRelay } from './agentRelay.ts';
import type { ServiceMapQuery } from './flowQuery.ts';

/** A service map a stream subscription reads; release it when the subscription ends. */
export interface ServiceMapLease {
  readonly map: ServiceMap;
  release(): void;
}

interface FilteredMap {
  map: ServiceMap;
  matches: FlowPredicate;
  holders: number;
}

export interface ServiceMapServiceOptions {
  now?: () => number;
  /** How often maps expire idle links and re-rate; default 1 s. */
  tickMs?: number;
  /** Held entries read per turn of the event loop while a filtered map is built; default 512. */
  chunkEntries?: number;
  /** Filtered maps (distinct filter sets) kept or being built at a time; default 64. */
  maxFilteredMaps?: number;
}

/** A lease that would make more filtered maps than the service keeps; `message` says so. */
export class ServiceMapLimitError extends Error {}

const DEFAULT_CHUNK_ENTRIES = 512;
const DEFAULT_MAX_FILTERED_MAPS = 64;

/**
 * The API's service maps, all built by `@tycho/servicemap` from the relay's
 * flows: one live map of every flow since the API started, and one per
 * distinct stream filter (shared by the subscriptions that use the same
 * filters, built from the held flows when first asked for, then fed live).
 * A `since` query builds a map from the flows held since then.
 *
 * Building a filtered map reads thousands of held flows, so it is done a
 * chunk at a time, yielding to the event loop between chunks, and stops when
 * the subscription that asked for it is superseded or gone; and there are at
 * most `maxFilteredMaps` of them, whoever asks.
 */
export class ServiceMapService {
  private readonly live: ServiceMap;
  private readonly filtered = new Map<string, FilteredMap>();
  /** Filtered maps being built (not yet in `filtered`). */
  private building = 0;
  private readonly now: () => number;
  private stopFlows: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly relay: AgentRelay,
    private readonly options: ServiceMapServiceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.live = new ServiceMap({ now: this.now });
  }

  start(): void {
    this.stopFlows = this.relay.onFlow((flow) => this.add(flow));
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 1000);
  }

  stop(): void {
    this.stopFlows?.();
    clearInterval(this.timer);
  }

  /** `GET /api/v1/service-map`. */
  snapshot(query: ServiceMapQuery): ServiceMapSnapshot {
    const selection = query.namespace === undefined ? {} : { namespace: query.namespace };
    if (query.sinceNs === undefined) return this.live.snapshot(selection);
    const map = new ServiceMap({ now: this.now });
    map.addAll(flowsOf(this.relay.heldFlows({ sinceNs: query.sinceNs })));
    return map.snapshot(selection);
  }

  /** Filtered maps kept (each held by at least one subscription) and being built. */
  get filteredMapCount(): number {
    return this.filtered.size + this.building;
  }

  /**
   * The map for a subscription: the live map without filters or `since`;
   * otherwise the map of `key` (filters and since in a canonical form), made
   * on first use from the held flows since `sinceNs` that pass `matches`, in
   * chunks; undefined when `abandoned()` turns true between chunks. Throws
   * ServiceMapLimitError when `key` would be one filtered map too many.
   */
  async lease(key: string | undefined, matches: FlowPredicate, sinceNs: bigint | undefined, abandoned: () => boolean = () => false): Promise<ServiceMapLease | undefined> {
    if (key === undefined) return { map: this.live, release: () => {} };
    let entry = this.filtered.get(key);
    if (!entry) {
      const maxMaps = this.options.maxFilteredMaps ?? DEFAULT_MAX_FILTERED_MAPS;
      if (this.filteredMapCount >= maxMaps) {
        throw new ServiceMapLimitError(`filters: ${maxMaps} distinct filter sets are in use by stream subscriptions, the most the API keeps; use filters another subscription uses, or try again later`);
      }
      const map = await this.build(matches, sinceNs, abandoned);
      if (!map) return undefined;
      // Another subscription may have built the same map meanwhile: share that one.
      entry = this.filtered.get(key) ?? { map, matches, holders: 0 };
      this.filtered.set(key, entry);
    }
    entry.holders++;
    const held = entry;
    let released = false;
    return {
      map: held.map,
      release: () => {
        if (released) return;
        released = true;
        held.holders--;
        if (held.holders === 0) this.filtered.delete(key);
      },
    };
  }

  /**
   * A map of the held flows since `sinceNs` that pass `matches`, read a chunk
   * per turn; the last chunk reads up to the newest flow held, so from the
   * caller's turn on, the live feed (`add`) carries on where it ended.
   */
  private async build(matches: FlowPredicate, sinceNs: bigint | undefined, abandoned: () => boolean): Promise<ServiceMap | undefined> {
    this.building++;
    try {
      const map = new ServiceMap({ now: this.now });
      const cursor = this.relay.heldFlowCursor({ matches, ...(sinceNs !== undefined ? { sinceNs } : {}) });
      const chunk = this.options.chunkEntries ?? DEFAULT_CHUNK_ENTRIES;
      for (;;) {
        for (const held of cursor.read(chunk)) map.add(held.flow);
        if (cursor.done) return map;
        await nextTurn();
        if (abandoned()) return undefined;
      }
    } finally {
      this.building--;
    }
  }

  private add(flow: Flow): void {
    this.live.add(flow);
    for (const entry of this.filtered.values()) if (entry.matches(flow)) entry.map.add(flow);
  }

  private tick(): void {
    this.live.tick();
    for (const entry of this.filtered.values()) entry.map.tick();
  }
}

function* flowsOf(responses: Iterable<{ flow?: Flow }>): Iterable<Flow> {
  for (const response of responses) if (response.flow) yield response.flow;
}
