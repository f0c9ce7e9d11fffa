import { describe, expect, it } from 'vitest';
import type { Flow } from '@tycho/flow';
import { FqdnCache } from './fqdnCache.ts';

function clock() {
  let nowMs = 1_000_000;
  return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

describe('FqdnCache', () => {
  it('gives the names of an address until their TTL runs out', () => {
    const time = clock();
    const cache = new FqdnCache({ now: time.now });
    cache.learn('198.51.100.14', 'www.google.com', 30);
    time.advance(29_999);
    expect(cache.namesOf('198.51.100.14')).toEqual(['www.google.com']);
    time.advance(1);
    expect(cache.namesOf('198.51.100.14')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps each name of an address on its own TTL, and a relearned name on the later expiry', () => {
    const time = clock();
    const cache = new FqdnCache({ now: time.now });
    cache.learn('198.51.100.14', 'www.google.com', 60);
    cache.learn('198.51.100.14', 'google.com', 10);
    cache.learn('198.51.100.14', 'www.google.com', 5);
    expect(cache.namesOf('198.51.100.14')).toEqual(['google.com', 'www.google.com']);
    time.advance(10_000);
    expect(cache.namesOf('198.51.100.14')).toEqual(['www.google.com']);
  });

  it('forgets the least recently learned address beyond its size', () => {
    const cache = new FqdnCache({ maxAddresses: 2, now: clock().now });
    cache.learn('192.0.2.1', 'a.example', 60);
    cache.learn('192.0.2.2', 'b.example', 60);
    cache.learn('192.0.2.1', 'a.example', 60);
    cache.learn('192.0.2.3', 'c.example', 60);
    expect([cache.namesOf('192.0.2.1'), cache.namesOf('192.0.2.2'), cache.namesOf('192.0.2.3')]).toEqual([['a.example'], undefined, ['c.example']]);
  });

  it('labels both ends of a flow with the names of their addresses', () => {
    const cache = new FqdnCache({ now: clock().now });
    cache.learn('198.51.100.14', 'www.google.com', 60);
    const flow = { IP: { source: '10.244.0.5', destination: '198.51.100.14', ipVersion: 'IPv4' } } as Flow;
    cache.label(flow);
    expect(flow.destination_names).toEqual(['www.google.com']);
    expect(flow.source_names).toBeUndefined();
  });
});
