/**
 * Epoch ms of RFC 3339 times (sub-millisecond digits ignored). Flows come in
 * time order, so a UTC time `YYYY-MM-DDTHH:MM:SS[.digits]Z` in the same second
 * as the one before reuses that second's `Date.parse` and only reads its digits.
 */
export class FlowTimeParser {
  /** `YYYY-MM-DDTHH:MM:SS` of the last UTC time parsed (never a prefix of a time before the first). */
  private second = '-';
  private secondMs = 0;

  ms(time: string): number | undefined {
    const length = time.length;
    if (length >= 20 && length <= 30 && time.charCodeAt(length - 1) === 90 /* Z */ && time.startsWith(this.second)) {
      const millis = fractionMs(time);
      if (millis !== undefined) return this.secondMs + millis;
    }
    const ms = Date.parse(time);
    if (Number.isNaN(ms)) return undefined;
    if (length >= 20 && time.charCodeAt(length - 1) === 90 && fractionMs(time) !== undefined) {
      this.second = time.slice(0, 19);
      this.secondMs = ms - fractionMs(time)!;
    }
    return ms;
  }
}

/** The milliseconds of `…:SS.digitsZ` (or 0 for `…:SSZ`); undefined if the part after the seconds is not that. */
function fractionMs(time: string): number | undefined {
  const end = time.length - 1;
  if (end === 19) return 0;
  if (time.charCodeAt(19) !== 46 /* . */ || end - 20 < 1 || end - 20 > 9) return undefined;
  let ms = 0;
  for (let i = 20; i < end; i++) {
    const digit = time.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    if (i < 23) ms = ms * 10 + digit;
  }
  for (let i = Math.min(end, 23); i < 23; i++) ms *= 10;
  return ms;
}
