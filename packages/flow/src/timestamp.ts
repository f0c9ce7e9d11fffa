/**
 * Flow times travel as protobuf JSON timestamps: RFC 3339 in UTC with 0, 3, 6
 * or 9 fractional digits (`2024-01-01T00:20:34.567891234Z`). Internally we
 * compare them as bigint nanoseconds since the epoch, which keeps the
 * nanoseconds a float of milliseconds would lose.
 */

export function timestampFromEpochNs(epochNs: bigint): string {
  const ms = epochNs / 1_000_000n;
  const nanos = Number(epochNs % 1_000_000_000n);
  const seconds = new Date(Number(ms)).toISOString().slice(0, 19);
  return `${seconds}${fractionDigits(nanos)}Z`;
}

/** Epoch milliseconds (possibly fractional) → timestamp, to the nanosecond the float holds. */
export function timestampFromEpochMs(epochMs: number): string {
  const wholeMs = Math.floor(epochMs);
  const subMsNs = Math.round((epochMs - wholeMs) * 1e6);
  return timestampFromEpochNs(BigInt(wholeMs) * 1_000_000n + BigInt(Math.min(subMsNs, 999_999)));
}

function fractionDigits(nanos: number): string {
  if (nanos === 0) return '';
  if (nanos % 1_000_000 === 0) return `.${String(nanos / 1_000_000).padStart(3, '0')}`;
  if (nanos % 1_000 === 0) return `.${String(nanos / 1_000).padStart(6, '0')}`;
  return `.${String(nanos).padStart(9, '0')}`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** RFC 3339 timestamp (any offset, up to nanoseconds) → epoch nanoseconds; undefined if malformed. */
export function epochNsFromTimestamp(timestamp: string): bigint | undefined {
  const match = RFC3339.exec(timestamp);
  if (!match) return undefined;
  const [, wholeSeconds, fraction = '', offset = 'Z'] = match;
  const ms = Date.parse(`${wholeSeconds}${offset.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt(fraction.padEnd(9, '0'));
}
