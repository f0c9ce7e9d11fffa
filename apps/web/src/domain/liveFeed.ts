import type { Flow } from '@tycho/flow';
import type { Card, Link, ServiceMapSnapshot } from '@tycho/servicemap';

/**
 * The client's view of the live data: the service map (cards and links by
 * id) and the newest flows, fed by the snapshot queries and the stream's
 * batches. While paused, batches are held back (and counted) and applied on
 * resume, so the map and table stop moving but nothing is lost.
 */

/** The `map` part of a stream batch. */
export interface MapChanges {
  cards: Card[];
  links: Link[];
  removedCards: string[];
  removedLinks: string[];
}

export interface LiveFeed {
  cards: ReadonlyMap<string, Card>;
  links: ReadonlyMap<string, Link>;
  /** Newest first, at most `FLOW_BUFFER_SIZE`. */
  flows: readonly Flow[];
  paused: boolean;
  /** Flows that arrived while paused. */
  pendingFlowCount: number;
  pendingFlows: readonly Flow[];
  pendingMap: MapChanges;
  /** Bumped whenever the map's cards or links change, for memoising layout. */
  mapVersion: number;
}

/** Hubble UI keeps the last 1,024 flows; the virtualised table affords more. */
export const FLOW_BUFFER_SIZE = 5_000;

const NO_CHANGES: MapChanges = { cards: [], links: [], removedCards: [], removedLinks: [] };

export const EMPTY_FEED: LiveFeed = {
  cards: new Map(),
  links: new Map(),
  flows: [],
  paused: false,
  pendingFlowCount: 0,
  pendingFlows: [],
  pendingMap: NO_CHANGES,
  mapVersion: 0,
};

/** Starts over from a snapshot (new namespace or filters), keeping the pause state. */
export function resetFeed(feed: LiveFeed, snapshot: ServiceMapSnapshot, flows: readonly Flow[]): LiveFeed {
  return {
    ...EMPTY_FEED,
    paused: feed.paused,
    cards: new Map(snapshot.cards.map((card) => [card.id, card])),
    links: new Map(snapshot.links.map((link) => [link.id, link])),
    flows: newestFirst(flows).slice(0, FLOW_BUFFER_SIZE),
    mapVersion: feed.mapVersion + 1,
  };
}

/** Replaces the map with a snapshot, keeping flows (the snapshot query answered after the stream started). */
export function replaceMap(feed: LiveFeed, snapshot: ServiceMapSnapshot): LiveFeed {
  return applyMap(
    { ...feed, cards: new Map(), links: new Map() },
    { cards: snapshot.cards, links: snapshot.links, removedCards: [], removedLinks: [] },
  );
}

/** Adds flows from `GET /flows` that the buffer does not hold yet. */
export function mergeFlows(feed: LiveFeed, flows: readonly Flow[]): LiveFeed {
  const known = new Set(feed.flows.map((flow) => flow.uuid));
  const fresh = flows.filter((flow) => !known.has(flow.uuid));
  if (fresh.length === 0) return feed;
  return { ...feed, flows: newestFirst([...feed.flows, ...fresh]).slice(0, FLOW_BUFFER_SIZE) };
}

export function receiveBatch(feed: LiveFeed, flows: readonly Flow[], map: MapChanges): LiveFeed {
  if (feed.paused) {
    return {
      ...feed,
      pendingFlowCount: feed.pendingFlowCount + flows.length,
      pendingFlows: [...newestFirst(flows), ...feed.pendingFlows].slice(0, FLOW_BUFFER_SIZE),
      pendingMap: mergeChanges(feed.pendingMap, map),
    };
  }
  const withFlows = flows.length > 0 ? { ...feed, flows: [...newestFirst(flows), ...feed.flows].slice(0, FLOW_BUFFER_SIZE) } : feed;
  return applyMap(withFlows, map);
}

export function pauseFeed(feed: LiveFeed): LiveFeed {
  return feed.paused ? feed : { ...feed, paused: true };
}

export function resumeFeed(feed: LiveFeed): LiveFeed {
  if (!feed.paused) return feed;
  const resumed: LiveFeed = {
    ...feed,
    paused: false,
    pendingFlowCount: 0,
    pendingFlows: [],
    pendingMap: NO_CHANGES,
    flows: [...feed.pendingFlows, ...feed.flows].slice(0, FLOW_BUFFER_SIZE),
  };
  return applyMap(resumed, feed.pendingMap);
}

function applyMap(feed: LiveFeed, changes: MapChanges): LiveFeed {
  if (changes.cards.length + changes.links.length + changes.removedCards.length + changes.removedLinks.length === 0) return feed;
  const cards = new Map(feed.cards);
  const links = new Map(feed.links);
  for (const id of changes.removedLinks) links.delete(id);
  for (const id of changes.removedCards) cards.delete(id);
  for (const card of changes.cards) cards.set(card.id, card);
  for (const link of changes.links) links.set(link.id, link);
  return { ...feed, cards, links, mapVersion: feed.mapVersion + 1 };
}

/** Two consecutive change sets as one: later upserts win, a removal cancels an earlier upsert and vice versa. */
export function mergeChanges(first: MapChanges, second: MapChanges): MapChanges {
  const cards = new Map(first.cards.map((card) => [card.id, card]));
  const links = new Map(first.links.map((link) => [link.id, link]));
  const removedCards = new Set(first.removedCards);
  const removedLinks = new Set(first.removedLinks);
  for (const id of second.removedCards) {
    cards.delete(id);
    removedCards.add(id);
  }
  for (const id of second.removedLinks) {
    links.delete(id);
    removedLinks.add(id);
  }
  for (const card of second.cards) {
    cards.set(card.id, card);
    removedCards.delete(card.id);
  }
  for (const link of second.links) {
    links.set(link.id, link);
    removedLinks.delete(link.id);
  }
  return { cards: [...cards.values()], links: [...links.values()], removedCards: [...removedCards], removedLinks: [...removedLinks] };
}

/** Sorted by time, newest first (times compare as instants: their fraction digits vary). */
function newestFirst(flows: readonly Flow[]): Flow[] {
  return flows
    .map((flow) => ({ flow, ms: Date.parse(flow.time) }))
    .sort((a, b) => b.ms - a.ms)
    .map(({ flow }) => flow);
}
