/**
 * Durations as people type them on a command line, in Go's notation:
 * `500ms`, `30s`, `5m`, `1h30m`. Used for `--since 5m`, `--report-interval 5s`.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;

/** The longest duration Go's time.Duration holds (2^63−1 ns, about 292 years): ParseDuration refuses longer ones, and so do we. */
export const MAX_DURATION_MS = 9_223_372_036_854;

/**
 * A duration string read: its milliseconds, `{ tooLong: true }` when it is
 * in the notation but longer than MAX_DURATION_MS (`1` and 400 zeros `h`),
 * undefined when it is not in the notation.
 */
export function parseDuration(text: string): { ms: number } | { tooLong: true } | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * (UNIT_MS[unit ?? ''] ?? 0);
  return total > MAX_DURATION_MS ? { tooLong: true } : { ms: total };
}

/** Milliseconds in a duration string, or undefined when it is not one (or is longer than MAX_DURATION_MS). */
export function parseDurationMs(text: string): number | undefined {
  const duration = parseDuration(text);
  return duration !== undefined && 'ms' in duration ? duration.ms : undefined;
}
