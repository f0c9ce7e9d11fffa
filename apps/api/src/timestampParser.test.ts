import { describe, expect, it } from 'vitest';
import { epochNsFromTimestamp } from '@tycho/flow';
import { TimestampParser } from './timestampParser.ts';

describe('TimestampParser', () => {
  it('agrees with epochNsFromTimestamp on times in the same second, with 0 to 9 fractional digits', () => {
    const parser = new TimestampParser();
    const times = ['2024-01-01T00:20:34Z', '2024-01-01T00:20:34.5Z', '2024-01-01T00:20:34.567Z', '2024-01-01T00:20:34.5678Z', '2024-01-01T00:20:34.567891Z', '2024-01-01T00:20:34.567891234Z', '2024-01-01T00:20:34.000000001Z'];
    for (const time of [...times, ...times]) expect(parser.epochNs(time), time).toBe(epochNsFromTimestamp(time));
  });

  it('agrees with epochNsFromTimestamp across seconds, offsets, lower case and malformed times', () => {
    const parser = new TimestampParser();
    const times = [
      '2024-01-01T00:20:34.100Z',
      '2024-01-01T00:20:35.100Z',
      '2024-01-01T00:20:35.100+01:00',
      '2024-01-01t00:20:35.100z',
      '2024-01-01T00:20:35.1x0Z',
      '2024-01-01T00:20:35.Z',
      '2024-01-01T00:20:35.1234567890Z',
      '2024-01-01T00:20:35.200Z',
      '1969-12-31T23:59:59.999Z',
      'not a time',
      '',
    ];
    for (const time of times) expect(parser.epochNs(time), time).toBe(epochNsFromTimestamp(time));
  });

  it('gives the last time in milliseconds as BigInt division does, before 1970 too', () => {
    const parser = new TimestampParser();
    const times = [
      '2024-01-01T00:20:34.999999999Z',
      '2024-01-01T00:20:34.0015Z',
      '2024-01-01T00:20:34Z',
      '2024-01-01T00:20:35.100+01:00',
      '1969-12-31T23:59:59.9995Z',
      '1969-12-31T23:59:59.0005Z',
      '1969-12-31T23:59:59Z',
    ];
    for (const time of [...times, ...times]) {
      const epochNs = parser.epochNs(time)!;
      expect(parser.lastMs, time).toBe(Number(epochNs / 1_000_000n));
    }
    parser.epochNs('not a time');
    expect(parser.lastMs).toBeNaN();
  });
});
