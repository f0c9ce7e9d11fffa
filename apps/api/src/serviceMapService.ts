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
}

/**
 * The API's service maps, all built by `@tycho/servicemap` from the relay's
 * flows: one live map of every flow since the API started, and one per
 * distinct stream filter (shared by the subscriptions that use the same
 * filters, built from the held flows when first asked for, then fed live).
 * A `since` query builds a map from the flows held since then.
 */
export class ServiceMapService {
  private readonly live: ServiceMap;
  private readonly filtered = new Map<string, FilteredMap>();
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

  /**
   * The map for a subscription: the live map without filters or `since`;
   * otherwise the map of `key` (filters and since in a canonical form), made
   * on first use from the held flows since `sinceNs` that pass `matches`.
   */
  lease(key: string | undefined, matches: FlowPredicate, sinceNs?: bigint): ServiceMapLease {
    if (key === undefined) return { map: this.live, release: () => {} };
    let entry = this.filtered.get(key);
    if (!entry) {
      const map = new ServiceMap({ now: this.now });
      map.addAll(flowsOf(this.relay.heldFlows({ matches, ...(sinceNs !== undefined ? { sinceNs } : {}) })));
      entry = { map, matches, holders: 0 };
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
