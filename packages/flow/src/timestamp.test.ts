import { describe, expect, it } from 'vitest';
import { epochNsFromTimestamp, timestampFromEpochMs, timestampFromEpochNs } from './timestamp.ts';

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
});
