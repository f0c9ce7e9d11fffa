import { describe, expect, it } from 'vitest';
import { RateWindow } from './rateWindow.ts';

describe('RateWindow', () => {
  it('averages events over the window', () => {
    const rate = new RateWindow(10);
    for (let s = 0; s < 5; s++) rate.add(s * 1000, 2);
    expect(rate.perSecond(9_999)).toBe(1);
  });

  it('forgets seconds that left the window', () => {
    const rate = new RateWindow(10);
    rate.add(0, 10);
    rate.add(5_000, 10);
    expect(rate.perSecond(12_000)).toBe(1);
  });

  it('ignores events older than the slot it would land in', () => {
    const rate = new RateWindow(10);
    rate.add(15_000);
    rate.add(5_000);
    expect(rate.perSecond(15_000)).toBe(0.1);
  });
});

describe('RateWindow between reads', () => {
  it('gives the same rate as a window that only counts, whatever the order of adds and reads', () => {
    const counted = new RateWindow(10);
    const fresh = () => new RateWindow(10);
    const adds: { atMs: number; count: number }[] = [];
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    for (let step = 0; step < 2_000; step++) {
      const nowMs = 20_000 + step * 37;
      // Mostly the current second, sometimes older, sometimes a little ahead (clock skew).
      const atMs = nowMs - random(4_000) * (random(3) === 0 ? 5 : 1) + (random(10) === 0 ? 2_500 : 0);
      const count = 1 + random(3);
      counted.add(atMs, count);
      adds.push({ atMs, count });
      if (random(4) === 0) {
        const reference = fresh();
        for (const add of adds) reference.add(add.atMs, add.count);
        expect(counted.perSecond(nowMs)).toBe(reference.perSecond(nowMs));
      }
    }
  });
});
