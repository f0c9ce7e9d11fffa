import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latencyHistogram.ts';

function histogramOf(latenciesMs: number[]): LatencyHistogram {
  const histogram = new LatencyHistogram();
  for (const ms of latenciesMs) histogram.add(ms * 1e6);
  return histogram;
}

describe('LatencyHistogram', () => {
  it('has no percentile while empty', () => {
    expect(new LatencyHistogram().percentile(0.5)).toBeUndefined();
  });

  it('puts p50, p90 and p99 of 1..100 ms within 5% of the exact values', () => {
    const histogram = histogramOf(Array.from({ length: 100 }, (_, i) => i + 1));
    for (const [fraction, exactMs] of [[0.5, 50], [0.9, 90], [0.99, 99]] as const) {
      const ms = histogram.percentile(fraction)! / 1e6;
      expect(Math.abs(ms - exactMs) / exactMs).toBeLessThan(0.05);
    }
  });

  it('answers a single sample with that sample, within 5%', () => {
    const ns = histogramOf([3.2]).percentile(0.99)!;
    expect(Math.abs(ns / 3.2e6 - 1)).toBeLessThan(0.05);
  });

  it('merges the samples of another histogram', () => {
    const merged = histogramOf([1, 1, 1]);
    merged.merge(histogramOf([1000]));
    expect(merged.count).toBe(4);
    expect(merged.percentile(0.5)! / 1e6).toBeLessThan(1.05);
    expect(merged.percentile(1)! / 1e6).toBeGreaterThan(950);
  });

  it('ignores negative and non-finite latencies', () => {
    const histogram = histogramOf([-1, Number.NaN, Number.POSITIVE_INFINITY]);
    expect(histogram.count).toBe(0);
  });
});
