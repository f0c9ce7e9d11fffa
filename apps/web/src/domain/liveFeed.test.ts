import { describe, expect, it } from 'vitest';
import { card, flow, link } from '../testing/mapFixtures.ts';
import { EMPTY_FEED, mergeChanges, mergeFlows, pauseFeed, receiveBatch, resetFeed, resumeFeed } from './liveFeed.ts';

const none = { cards: [], links: [], removedCards: [], removedLinks: [] };

describe('live feed', () => {
  it('starts from a snapshot and applies upserts and removals', () => {
    const feed = resetFeed(EMPTY_FEED, { cards: [card('default/a'), card('default/b')], links: [link('default/a', 'default/b')] }, []);
    const next = receiveBatch(feed, [], { cards: [card('default/c')], links: [], removedCards: ['default/a'], removedLinks: [link('default/a', 'default/b').id] });
    expect([...next.cards.keys()]).toEqual(['default/b', 'default/c']);
    expect(next.links.size).toBe(0);
    expect(next.mapVersion).toBeGreaterThan(feed.mapVersion);
  });

  it('keeps flows newest first', () => {
    const feed = receiveBatch(EMPTY_FEED, [flow('1', 'default/a', 'default/b', { time: '2024-01-01T00:00:01Z' }), flow('2', 'default/a', 'default/b', { time: '2024-01-01T00:00:01.5Z' })], none);
    expect(feed.flows.map((f) => f.uuid)).toEqual(['2', '1']);
  });

  it('holds batches while paused, counts them, and applies them on resume', () => {
    const paused = pauseFeed(resetFeed(EMPTY_FEED, { cards: [card('default/a')], links: [] }, []));
    const held = receiveBatch(paused, [flow('1', 'default/a', 'default/b')], { cards: [card('default/b')], links: [], removedCards: [], removedLinks: [] });
    expect(held.pendingFlowCount).toBe(1);
    expect(held.flows).toEqual([]);
    expect(held.cards.has('default/b')).toBe(false);
    const resumed = resumeFeed(held);
    expect(resumed.flows.map((f) => f.uuid)).toEqual(['1']);
    expect(resumed.cards.has('default/b')).toBe(true);
    expect(resumed.pendingFlowCount).toBe(0);
  });

  it('adds fetched flows it does not hold yet', () => {
    const feed = receiveBatch(EMPTY_FEED, [flow('1', 'default/a', 'default/b')], none);
    expect(mergeFlows(feed, [flow('1', 'default/a', 'default/b'), flow('0', 'default/a', 'default/b', { time: '2023-12-31T00:00:00Z' })]).flows.map((f) => f.uuid)).toEqual(['1', '0']);
  });

  it('merges change sets so that the later one wins', () => {
    const merged = mergeChanges(
      { cards: [card('default/a')], links: [], removedCards: ['default/b'], removedLinks: [] },
      { cards: [card('default/b')], links: [], removedCards: ['default/a'], removedLinks: [] },
    );
    expect(merged).toEqual({ cards: [card('default/b')], links: [], removedCards: ['default/a'], removedLinks: [] });
  });
});
