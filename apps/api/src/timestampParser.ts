import { epochNsFromTimestamp } from '@tycho/flow';

/**
 * `epochNsFromTimestamp` for a stream of flow times, which come in time
 * order: a UTC time `YYYY-MM-DDTHH:MM:SS[.digits]Z` in the same second as the
 * time parsed before it reuses that second and only reads its digits.
 */
export class TimestampParser {
  /** `YYYY-MM-DDTHH:MM:SS` of the last UTC time parsed (never a prefix of a time before the first). */
  private second = '-';
  private secondNs = 0n;
  /** `secondNs` in ms, when it is not negative (then adding a fraction's whole ms truncates as BigInt division does). */
  private secondMs: number | undefined;
  private lastEpochMs = Number.NaN;

  epochNs(time: string): bigint | undefined {
    const length = time.length;
    if (length >= 20 && length <= 30 && time.charCodeAt(length - 1) === 90 /* Z */ && time.startsWith(this.second)) {
      const nanos = fractionNs(time);
      if (nanos !== undefined) {
        const epochNs = this.secondNs + BigInt(nanos);
        this.lastEpochMs = this.secondMs !== undefined ? this.secondMs + Math.floor(nanos / 1_000_000) : Number(epochNs / 1_000_000n);
        return epochNs;
      }
    }
    const epochNs = epochNsFromTimestamp(time);
    this.lastEpochMs = epochNs === undefined ? Number.NaN : Number(epochNs / 1_000_000n);
    if (epochNs === undefined || length < 20 || time.charCodeAt(length - 1) !== 90) return epochNs;
    const nanos = fractionNs(time);
    if (nanos !== undefined) {
      this.second = time.slice(0, 19);
      this.secondNs = epochNs - BigInt(nanos);
      this.secondMs = this.secondNs >= 0n ? Number(this.secondNs / 1_000_000n) : undefined;
    }
    return epochNs;
  }

  /**
   * What the last `epochNs` returned, in epoch milliseconds as
   * `Number(epochNs / 1_000_000n)` gives them, without dividing a BigInt
   * (NaN when it returned undefined).
   */
  get lastMs(): number {
    return this.lastEpochMs;
  }
}

/** The nanoseconds of `…:SS.digitsZ` (1 to 9 digits; 0 for `…:SSZ`); undefined if the part after the seconds is not that. */
function fractionNs(time: string): number | undefined {
  const end = time.length - 1;
  if (end === 19) return 0;
  if (time.charCodeAt(19) !== 46 /* . */ || end - 20 < 1 || end - 20 > 9) return undefined;
  let nanos = 0;
  for (let i = 20; i < 29; i++) {
    const digit = i < end ? time.charCodeAt(i) - 48 : 0;
    if (digit < 0 || digit > 9) return undefined;
    nanos = nanos * 10 + digit;
  }
  return nanos;
}
