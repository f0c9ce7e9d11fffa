import { describe, expect, it } from 'vitest';
import { FlowRate } from './flowRate.ts';

describe('FlowRate', () => {
  it('averages the flows of the last 10 seconds', () => {
    let now = 100_000;
    const rate = new FlowRate(10, () => now);
    for (let i = 0; i < 50; i++) rate.add(now - 1000);
    expect(rate.perSecond()).toBe(5);
    now += 10_000;
    expect(rate.perSecond()).toBe(0);
  });

  it('ignores flows older than the window, such as a replayed backlog', () => {
    const now = 100_000;
    const rate = new FlowRate(10, () => now);
    rate.add(now - 60_000);
    expect(rate.perSecond()).toBe(0);
  });
});
