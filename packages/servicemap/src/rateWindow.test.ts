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
