/**
 * Event counts per second over a sliding window (60 one-second buckets by
 * default), for a link's flows/s over the last minute.
 */
export class RateWindow {
  private readonly counts: Uint32Array;
  private readonly seconds: Float64Array;
  /** The window total of the last `perSecond` call (ending at `totalSecond`), kept up to date by `add`; NaN when unknown. */
  private totalSecond = Number.NaN;
  private total = 0;

  constructor(private readonly windowSeconds = 60) {
    this.counts = new Uint32Array(windowSeconds);
    this.seconds = new Float64Array(windowSeconds).fill(-1);
  }

  add(atMs: number, count = 1): void {
    const second = Math.floor(atMs / 1000);
    const slot = ((second % this.windowSeconds) + this.windowSeconds) % this.windowSeconds;
    if (this.seconds[slot] !== second) {
      if ((this.seconds[slot] ?? -1) > second) return; // older than the window this slot now holds
      // The second this slot held is gone; it was inside the cached window only if `second` is past its end.
      if (second > this.totalSecond) this.totalSecond = Number.NaN;
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot] = (this.counts[slot] ?? 0) + count;
    if (second > this.totalSecond - this.windowSeconds && second <= this.totalSecond) this.total += count;
  }

  /** Events per second over the window that ends at `nowMs`. */
  perSecond(nowMs: number): number {
    const now = Math.floor(nowMs / 1000);
    if (now !== this.totalSecond) {
      let total = 0;
      for (let slot = 0; slot < this.windowSeconds; slot++) {
        const second = this.seconds[slot] ?? -1;
        if (second > now - this.windowSeconds && second <= now) total += this.counts[slot] ?? 0;
      }
      this.total = total;
      this.totalSecond = now;
    }
    return this.total / this.windowSeconds;
  }
}
