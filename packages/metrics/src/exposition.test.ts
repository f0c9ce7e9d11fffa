import { describe, expect, it } from 'vitest';
import { renderExposition } from './exposition.ts';
import { CounterFamily, HistogramFamily } from './metricFamily.ts';

describe('renderExposition', () => {
  it('writes HELP, TYPE and escaped label values', () => {
    const counter = new CounterFamily('hubble_drop_total', 'Number of drops', ['reason']);
    counter.inc(['say "hi"\\\n']);
    expect(renderExposition([counter])).toBe(
      '# HELP hubble_drop_total Number of drops\n# TYPE hubble_drop_total counter\nhubble_drop_total{reason="say \\"hi\\"\\\\\\n"} 1\n',
    );
  });

  it('writes cumulative buckets, +Inf, sum and count of a histogram', () => {
    const histogram = new HistogramFamily('d_seconds', 'D', ['method'], [0.1, 1]);
    histogram.observe(['GET'], 0.05);
    histogram.observe(['GET'], 0.5);
    histogram.observe(['GET'], 3);
    expect(renderExposition([histogram])).toBe(
      [
        '# HELP d_seconds D',
        '# TYPE d_seconds histogram',
        'd_seconds_bucket{method="GET",le="0.1"} 1',
        'd_seconds_bucket{method="GET",le="1"} 2',
        'd_seconds_bucket{method="GET",le="+Inf"} 3',
        'd_seconds_sum{method="GET"} 3.55',
        'd_seconds_count{method="GET"} 3',
        '',
      ].join('\n'),
    );
  });
});
