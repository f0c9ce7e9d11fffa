/**
 * Latencies in a fixed number of logarithmic bins (8 per power of two, from
 * 1 µs to about 70 min), so a percentile costs a walk over the bins and a
 * window of any length keeps the same memory. A percentile is the geometric
 * middle of its bin: within about 4.5% of the true value.
 */
export class LatencyHistogram {
  static readonly BINS_PER_DOUBLING = 8;
  static readonly BIN_COUNT = 32 * LatencyHistogram.BINS_PER_DOUBLING;
  private readonly bins = new Uint32Array(LatencyHistogram.BIN_COUNT);
  private total = 0;

  get count(): number {
    return this.total;
  }

  /** Adds one latency in nanoseconds; below 1 µs counts as 1 µs, beyond the last bin as the last bin. */
  add(latencyNs: number): void {
    if (!Number.isFinite(latencyNs) || latencyNs < 0) return;
    const micros = Math.max(1, latencyNs / 1000);
    const bin = Math.min(LatencyHistogram.BIN_COUNT - 1, Math.floor(Math.log2(micros) * LatencyHistogram.BINS_PER_DOUBLING));
    this.bins[bin]! += 1;
    this.total += 1;
  }

  /** Adds every latency of another histogram to this one. */
  merge(other: LatencyHistogram): void {
    for (let bin = 0; bin < LatencyHistogram.BIN_COUNT; bin++) this.bins[bin]! += other.bins[bin]!;
    this.total += other.total;
  }

  /** The latency (nanoseconds) that `fraction` (0..1) of the samples do not exceed; undefined when empty. */
  percentile(fraction: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let bin = 0; bin < LatencyHistogram.BIN_COUNT; bin++) {
      seen += this.bins[bin]!;
      if (seen >= rank) return 1000 * 2 ** ((bin + 0.5) / LatencyHistogram.BINS_PER_DOUBLING);
    }
    return undefined;
  }
}
