import { describe, expect, it } from 'vitest';
import { epochNsFromTimestamp, parseTimestamp, timestampFromEpochMs, timestampFromEpochNs } from './timestamp.ts';

describe('timestamps', () => {
  it('prints nanoseconds with 9 digits, micro with 6, milli with 3, none when whole', () => {
    const base = BigInt(Date.UTC(2024, 0, 1, 0, 20, 34)) * 1_000_000n;
    expect(timestampFromEpochNs(base + 567_891_234n)).toBe('2024-01-01T00:20:34.567891234Z');
    expect(timestampFromEpochNs(base + 567_891_000n)).toBe('2024-01-01T00:20:34.567891Z');
    expect(timestampFromEpochNs(base + 567_000_000n)).toBe('2024-01-01T00:20:34.567Z');
    expect(timestampFromEpochNs(base)).toBe('2024-01-01T00:20:34Z');
  });

  it('converts fractional epoch milliseconds', () => {
    expect(timestampFromEpochMs(Date.UTC(2024, 0, 1) + 0.5)).toBe('2024-01-01T00:00:00.000500Z');
  });

  it('parses RFC 3339 with offsets and nanoseconds back to epoch nanoseconds', () => {
    expect(epochNsFromTimestamp('2024-01-01T00:20:34.567891234Z')).toBe(BigInt(Date.UTC(2024, 0, 1, 0, 20, 34)) * 1_000_000n + 567_891_234n);
    expect(epochNsFromTimestamp('2024-01-01T02:00:00+02:00')).toBe(BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n);
  });

  it('rejects text that is not RFC 3339', () => {
    expect(epochNsFromTimestamp('yesterday')).toBeUndefined();
    expect(epochNsFromTimestamp('2024-01-01 00:00:00')).toBeUndefined();
  });

  it.each(['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '2024-13-01T00:00:00Z', '2024-00-10T00:00:00Z', '2024-01-00T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:60:00Z', '2024-01-01T00:00:60Z', '2024-01-01T00:00:00+24:00', '2024-01-01T00:00:00-01:60', '0000-01-01T00:00:00Z'])(
    'rejects %s, which is not a real time',
    (text) => {
      expect(epochNsFromTimestamp(text)).toBeUndefined();
    },
  );

  it('says why a text in the notation is not a real time', () => {
    expect(parseTimestamp('2024-02-30T00:00:00Z')).toEqual({ notRealTime: 'day 30 does not exist in 2024-02 (it has 29 days)' });
    expect(parseTimestamp('2024-01-01T24:00:00Z')).toEqual({ notRealTime: 'hour 24 is out of range (00–23)' });
    expect(parseTimestamp('2024-01-01T00:00:00+24:00')).toEqual({ notRealTime: 'offset +24:00 is out of range (hours 00–23, minutes 00–59)' });
    expect(parseTimestamp('2024-02-29T00:00:00Z')).toEqual({ epochNs: BigInt(Date.UTC(2024, 1, 29)) * 1_000_000n });
    expect(parseTimestamp('yesterday')).toBeUndefined();
  });

  it('reads leap days, the ends of months and the ends of the protobuf range', () => {
    expect(epochNsFromTimestamp('2024-02-29T00:00:00Z')).toBe(BigInt(Date.UTC(2024, 1, 29)) * 1_000_000n);
    expect(epochNsFromTimestamp('2000-02-29T23:59:59-00:30')).toBe(BigInt(Date.UTC(2000, 2, 1, 0, 29, 59)) * 1_000_000n);
    expect(epochNsFromTimestamp('2024-04-30T00:00:00z')).toBe(BigInt(Date.UTC(2024, 3, 30)) * 1_000_000n);
    expect(epochNsFromTimestamp('0001-01-01T00:00:00Z')).toBe(-62_135_596_800_000_000_000n);
    expect(epochNsFromTimestamp('9999-12-31T23:59:59.999999999Z')).toBe(253_402_300_799_999_999_999n);
  });
});
