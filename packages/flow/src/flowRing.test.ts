import { describe, expect, it } from 'vitest';
import { FlowRing } from './flowRing.ts';

describe('FlowRing', () => {
  it('defaults to Hubble’s capacity of 4095', () => {
    expect(new FlowRing<number>().maxFlows).toBe(4095);
  });

  it.each([0, 2, 4, 100, 4096, 1.5, 131071])('refuses capacity %s and says which values are allowed', (capacity) => {
    expect(() => new FlowRing<number>(capacity)).toThrow(/capacity .* is not allowed; it must be one less than a power of two/);
  });

  it.each([1, 3, 7, 4095, 65535])('accepts capacity %s', (capacity) => {
    expect(new FlowRing<number>(capacity).maxFlows).toBe(capacity);
  });

  it('keeps only the last N entries and counts every write as seen', () => {
    const ring = new FlowRing<number>(3);
    for (let i = 0; i < 5; i++) ring.write(i);
    expect(ring.numFlows).toBe(3);
    expect(ring.seenFlows).toBe(5);
    expect(ring.oldestPosition).toBe(2);
    expect([2, 3, 4].map((p) => ring.read(p)?.entry)).toEqual([2, 3, 4]);
  });

  it('returns nothing for a position not written yet', () => {
    const ring = new FlowRing<number>(3);
    ring.write(1);
    expect(ring.read(1)).toBeUndefined();
  });

  it('tells a reader the writer overtook how many entries it lost, then resumes at the oldest', () => {
    const ring = new FlowRing<number>(7);
    for (let i = 0; i < 20; i++) ring.write(i);
    const read = ring.read(5);
    expect(read).toEqual({ lost: { source: 'HUBBLE_RING_BUFFER', num_events_lost: 8 }, next: 13 });
    expect(ring.read(13)?.entry).toBe(13);
  });

  it('notifies write listeners until they unsubscribe', () => {
    const ring = new FlowRing<number>(3);
    let calls = 0;
    const stop = ring.onWrite(() => calls++);
    ring.write(1);
    stop();
    ring.write(2);
    expect(calls).toBe(1);
  });
});
