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

  epochNs(time: string): bigint | undefined {
    const length = time.length;
    if (length >= 20 && length <= 30 && time.charCodeAt(length - 1) === 90 /* Z */ && time.startsWith(this.second)) {
      const nanos = fractionNs(time);
      if (nanos !== undefined) return this.secondNs + BigInt(nanos);
    }
    const epochNs = epochNsFromTimestamp(time);
    if (epochNs === undefined || length < 20 || time.charCodeAt(length - 1) !== 90) return epochNs;
    const nanos = fractionNs(time);
    if (nanos !== undefined) {
      this.second = time.slice(0, 19);
      this.secondNs = epochNs - BigInt(nanos);
    }
    return epochNs;
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
