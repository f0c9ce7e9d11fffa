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

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/i;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/** Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * An RFC 3339 timestamp → epoch nanoseconds; a string saying why when it is
 * in the notation but not a real time; undefined when it is not in the notation.
 */
function readTimestamp(timestamp: string): bigint | string | undefined {
  const match = RFC3339.exec(timestamp);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6]);
  if (year < 1) return 'year 0000 is out of range (0001–9999)';
  if (month < 1 || month > 12) return `month ${match[2]} does not exist`;
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return `day ${match[3]} does not exist in ${match[1]}-${match[2]} (it has ${days} days)`;
  if (hour > 23) return `hour ${match[4]} is out of range (00–23)`;
  if (minute > 59) return `minute ${match[5]} is out of range (00–59)`;
  if (second > 59) return `second ${match[6]} is out of range (00–59)`;
  let offsetMinutes = 0;
  if (match[8] === undefined) {
    const offsetHour = Number(match[10]);
    const offsetMinute = Number(match[11]);
    if (offsetHour > 23 || offsetMinute > 59) return `offset ${match[9]}${match[10]}:${match[11]} is out of range (hours 00–23, minutes 00–59)`;
    offsetMinutes = (match[9] === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  const seconds = daysFromCivil(year, month, day) * 86_400 + (hour * 60 + minute - offsetMinutes) * 60 + second;
  const fraction = match[7];
  const nanos = fraction === undefined ? 0 : Number(fraction) * 10 ** (9 - fraction.length);
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}

/**
 * RFC 3339 timestamp (any offset, up to nanoseconds) → epoch nanoseconds;
 * undefined if malformed or not a real time: the date must exist
 * (`2024-02-30` does not), hours 00–23, minutes and seconds 00–59 (as Go's
 * time.Parse), and the year within protobuf Timestamp's 0001–9999.
 */
export function epochNsFromTimestamp(timestamp: string): bigint | undefined {
  const read = readTimestamp(timestamp);
  return typeof read === 'bigint' ? read : undefined;
}

/**
 * `epochNsFromTimestamp` for what people type: `{ notRealTime }` says what
 * is wrong with a text in the notation (`day 30 does not exist in 2024-02
 * (it has 29 days)`); undefined when it is not in the notation.
 */
export function parseTimestamp(timestamp: string): { epochNs: bigint } | { notRealTime: string } | undefined {
  const read = readTimestamp(timestamp);
  if (read === undefined) return undefined;
  return typeof read === 'bigint' ? { epochNs: read } : { notRealTime: read };
}
