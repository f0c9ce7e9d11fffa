import { describe, expect, it } from 'vitest';
import { FlowTimeParser } from './flowTime.ts';

const parsed = (time: string) => {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
};

describe('FlowTimeParser', () => {
  it('agrees with Date.parse on times in the same second, with 0 to 9 fractional digits', () => {
    const parser = new FlowTimeParser();
    const times = ['2024-01-01T00:20:34Z', '2024-01-01T00:20:34.5Z', '2024-01-01T00:20:34.56Z', '2024-01-01T00:20:34.567Z', '2024-01-01T00:20:34.5678Z', '2024-01-01T00:20:34.567891Z', '2024-01-01T00:20:34.567891234Z', '2024-01-01T00:20:34.000Z'];
    for (const time of [...times, ...times]) expect(parser.ms(time)).toBe(parsed(time));
  });

  it('agrees with Date.parse across seconds, offsets and malformed times', () => {
    const parser = new FlowTimeParser();
    const times = [
      '2024-01-01T00:20:34.100Z',
      '2024-01-01T00:20:35.100Z',
      '2024-01-01T00:20:35.100+01:00',
      '2024-01-01T00:20:35.1x0Z',
      '2024-01-01T00:20:35.Z',
      '2024-01-01T00:20:35.1234567890Z',
      '2024-01-01T00:20:35.200Z',
      '2023-12-31T23:59:59.999Z',
      'not a time',
      '',
    ];
    for (const time of times) expect(parser.ms(time), time).toBe(parsed(time));
  });
});
