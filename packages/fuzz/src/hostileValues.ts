import fc from 'fast-check';

/**
 * Values a hostile or careless client sends: what every edge of Tycho (REST,
 * WebSocket, CLI flags, CNI stdin) must answer with a clear error, never a
 * crash or a stall. Each arbitrary mixes plausible values with the shapes
 * that broke parsers before (issue 11): huge durations, deep nesting,
 * backtracking regular expressions, impossible dates, prototype keys.
 */

/** Keys that reach an object's prototype when code indexes with user input. */
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'] as const;

/** Regular expressions that backtrack exponentially in a backtracking engine, and texts that are no regular expression at all. */
export const HOSTILE_REGEXES = [
  '(a+)+$',
  '(a|aa)+$',
  '(a|a?)+$',
  '(.*a){25}',
  '^(([a-z])+.)+[A-Z]([a-z])+$',
  '(\\w+\\s?)+$',
  '(',
  '[',
  '\\',
  '(?<n>a)\\k<m>',
  'a{99999999}',
  '*',
  '(?=a)*',
  '\\p{L}',
  '[\\d-z]',
  '(?i)a',
] as const;

/** Texts that look like numbers or nothing, and characters that break quoting, paths and terminals. */
const ODD_TEXTS = ['', ' ', '\t\n', 'null', 'undefined', 'NaN', 'Infinity', '-1', '0', '-0', '1e400', '0x10', '9007199254740993', '%', '%ZZ', '%00', '\u0000', '\ud800', '\udfff', '\u202e', '\u{1F600}', 'e\u0301', '../../etc/passwd', '<script>', '"', "'", '`', '{', '}', '[]', '{}', '\\', '-', '--', '=', ';', ',', '/'];

/** A character repeated `min`…`max` times (ASCII, two-byte, astral, or a separator). */
export function longString(min: number, max: number): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom('a', 'é', '𝕏', '/', '%', ',', '\u0000'), fc.integer({ min, max })).map(([char, count]) => char.repeat(count));
}

/** Any text: random unicode (lone surrogates included), odd constants, prototype keys, regexes, long runs. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...ODD_TEXTS, ...PROTOTYPE_KEYS, ...HOSTILE_REGEXES),
  longString(1_000, 20_000),
);

/** JSON values of the wrong type or at the edges of numbers, for places that expect something else. */
export const hostileJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, -1, 0.5, 1e308, -1e308, 2 ** 53 + 2, 4_294_967_296, 65_536, [], {}, [[]], [null], { '': '' }),
  hostileString,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** `1` followed by 16…1,000 zeros and a unit: a duration no clock can represent. */
export const hugeDuration: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 16, max: 1_000 }), fc.constantFrom('ns', 'us', 'µs', 'ms', 's', 'm', 'h', 'd'))
  .map(([zeros, unit]) => `1${'0'.repeat(zeros)}${unit}`);

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** RFC 3339-shaped times whose fields may be out of range: 2024-02-30, hour 24, second 61, year 0 or 99999. */
export const impossibleDate: fc.Arbitrary<string> = fc
  .record({
    year: fc.oneof(fc.constantFrom(0, 1970, 2023, 2024, 9999, 275_760, 275_761), fc.integer({ min: 0, max: 99_999 })),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.oneof(fc.constantFrom(0, 28, 29, 30, 31, 32), fc.integer({ min: 0, max: 99 })),
    hour: fc.constantFrom(0, 23, 24, 99),
    minute: fc.constantFrom(0, 59, 60),
    second: fc.constantFrom(0, 59, 60, 61),
    zone: fc.constantFrom('Z', '+00:00', '-23:59', '+24:00', '+99:99', ''),
  })
  .map(({ year, month, day, hour, minute, second, zone }) => `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${zone}`);

/** What a `since`/`until` may be given: valid durations and times, and every way of getting them wrong. */
export const hostileTime: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('30s', '5m', '1h', '0s', '2024-01-01T00:00:00Z', '2024-01-01T00:00:03.5+02:00'),
  fc.constantFrom(
    '2024-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '+275760-09-13T00:00:00.001Z',
    '-271821-04-20T00:00:00Z',
    '-1s',
    '1e400s',
    'Infinityh',
    'NaNm',
    '1.5h',
    '1h30m',
    '99999999999999999999h',
    '9007199254740993ns',
    '0x10s',
    'h',
    ' 5m',
  ),
  hugeDuration,
  impossibleDate,
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((date) => date.toISOString()),
  hostileString,
);

/** JSON text nested `min`…`max` levels deep (arrays or objects) around `leaf`. */
export function deepJson(leaf: string, min: number, max: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.integer({ min, max }), fc.constantFrom('array', 'object'))
    .map(([depth, kind]) => (kind === 'array' ? `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`));
}

/** Text that is not JSON, or is JSON only up to a point. */
export const notJson: fc.Arbitrary<string> = fc.oneof(
  hostileString,
  fc.constantFrom('{', '[', '{"a":', '[1,]', "{'a':1}", '{"a":1}}', 'NaN', '\ufeff{}', '{"a":1,"a":2'),
);
