/**
 * Flows per second over a sliding window (default the last 10 s), counted
 * by flow time in one-second buckets, so a backlog replayed after a
 * reconnect does not show up as a burst.
 */
export class FlowRate {
  private readonly buckets = new Map<number, number>();

  constructor(
    private readonly windowSeconds = 10,
    private readonly now: () => number = Date.now,
  ) {}

  add(timeMs: number): void {
    const second = Math.floor(timeMs / 1000);
    const newest = Math.floor(this.now() / 1000);
    if (second <= newest - this.windowSeconds || second > newest + 1) return;
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + 1);
  }

  perSecond(): number {
    const newest = Math.floor(this.now() / 1000);
    let total = 0;
    for (const [second, count] of this.buckets) {
      if (second <= newest - this.windowSeconds) this.buckets.delete(second);
      else total += count;
    }
    return Math.round((total / this.windowSeconds) * 10) / 10;
  }
}
