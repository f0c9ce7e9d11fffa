import { describe, expect, it } from 'vitest';
import { areaPath, formatMilliseconds, formatNumber, linearScale, linePath, niceTicks, rateSeries, timeTicks, verdictOrder } from './chartGeometry.ts';

describe('linearScale', () => {
  it('maps the domain onto the range, reversed ranges too', () => {
    const y = linearScale([0, 10], [100, 0]);
    expect([y(0), y(5), y(10)]).toEqual([100, 50, 0]);
  });

  it('maps a zero-width domain to the start of the range', () => {
    expect(linearScale([3, 3], [10, 20])(3)).toBe(10);
  });
});

describe('niceTicks', () => {
  it('covers the maximum with round steps from zero', () => {
    expect(niceTicks(7.3)).toEqual({ max: 8, ticks: [0, 2, 4, 6, 8] });
    expect(niceTicks(0.37)).toEqual({ max: 0.4, ticks: [0, 0.1, 0.2, 0.3, 0.4] });
    expect(niceTicks(1200)).toEqual({ max: 1500, ticks: [0, 500, 1000, 1500] });
  });

  it('gives a unit axis when there is nothing to show', () => {
    expect(niceTicks(0)).toEqual({ max: 1, ticks: [0, 1] });
    expect(niceTicks(Number.NaN)).toEqual({ max: 1, ticks: [0, 1] });
  });
});

describe('timeTicks', () => {
  it('spaces labels evenly, ends included', () => {
    expect(timeTicks(0, 60_000, 4)).toEqual([0, 20_000, 40_000, 60_000]);
  });
});

describe('paths', () => {
  it('draws a line through the points and closes an area down to the baseline', () => {
    const points = [{ x: 0, y: 10 }, { x: 5, y: 2.25 }];
    expect(linePath(points)).toBe('M0,10L5,2.3');
    expect(areaPath(points, 20)).toBe('M0,10L5,2.3L5,20L0,20Z');
    expect(areaPath([], 20)).toBe('');
  });
});

describe('rateSeries', () => {
  it('makes one series per verdict, FORWARDED first, with zeros where a step had none', () => {
    const series = rateSeries([
      { time: '2024-01-01T00:00:00Z', verdicts: { DROPPED: 0.2 } },
      { time: '2024-01-01T00:00:05Z', verdicts: { FORWARDED: 1.4, AUDIT: 0.2 } },
    ]);
    expect(series.map((s) => s.verdict)).toEqual(['FORWARDED', 'DROPPED', 'AUDIT']);
    expect(series[0]?.points).toEqual([{ timeMs: Date.parse('2024-01-01T00:00:00Z'), perSecond: 0 }, { timeMs: Date.parse('2024-01-01T00:00:05Z'), perSecond: 1.4 }]);
  });

  it('orders verdicts the same way wherever they come from', () => {
    expect(verdictOrder(['TRACED', 'DROPPED', 'FORWARDED', 'DROPPED'])).toEqual(['FORWARDED', 'DROPPED', 'TRACED']);
  });
});

describe('formatting', () => {
  it('shortens numbers for axes and legends', () => {
    expect([0.333, 12.34, 250.4, 12_500].map(formatNumber)).toEqual(['0.33', '12.3', '250', '12.5k']);
  });

  it('writes latencies in the unit that reads best', () => {
    expect([0.25, 3.21, 250.4, 1500].map(formatMilliseconds)).toEqual(['250 µs', '3.2 ms', '250 ms', '1.5 s']);
  });
});
