/**
 * Labelled Prometheus metric families (what client libraries call a
 * CounterVec / HistogramVec), kept as plain maps from the joined label values
 * so that counting a flow costs one string join and one map lookup.
 */
const KEY_SEPARATOR = '\u0000';

export interface CounterSeries {
  readonly labelValues: readonly string[];
  value: number;
}

export class CounterFamily {
  readonly type = 'counter';
  readonly series = new Map<string, CounterSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  inc(labelValues: readonly string[], amount = 1): void {
    const key = labelValues.join(KEY_SEPARATOR);
    const found = this.series.get(key);
    if (found) found.value += amount;
    else this.series.set(key, { labelValues: [...labelValues], value: amount });
  }

  /** The value for exactly these label values (0 when never counted). */
  get(labelValues: readonly string[]): number {
    return this.series.get(labelValues.join(KEY_SEPARATOR))?.value ?? 0;
  }
}

/** Prometheus client libraries' default buckets (seconds). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface HistogramSeries {
  readonly labelValues: readonly string[];
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly bucketCounts: number[];
  sum: number;
  count: number;
}

export class HistogramFamily {
  readonly type = 'histogram';
  readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {}

  observe(labelValues: readonly string[], value: number): void {
    const key = labelValues.join(KEY_SEPARATOR);
    let series = this.series.get(key);
    if (!series) {
      series = { labelValues: [...labelValues], bucketCounts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    let slot = 0;
    while (slot < this.buckets.length && value > (this.buckets[slot] as number)) slot++;
    series.bucketCounts[slot] = (series.bucketCounts[slot] ?? 0) + 1;
    series.sum += value;
    series.count++;
  }
}

export type MetricFamily = CounterFamily | HistogramFamily;
