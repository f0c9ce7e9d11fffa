import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS, parseDuration, parseDurationMs } from './duration.ts';

describe('parseDurationMs', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
  ])('reads %s', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', '5', 's', '5 m', '-5s', '5d'])('rejects %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it('refuses a duration longer than Go’s time.Duration holds, such as 1 and 400 zeros h', () => {
    const huge = `1${'0'.repeat(400)}h`;
    expect(parseDuration(huge)).toEqual({ tooLong: true });
    expect(parseDurationMs(huge)).toBeUndefined();
    expect(parseDuration('2562047h')).toEqual({ ms: 2_562_047 * 3_600_000 });
    expect(parseDuration('2562048h')).toEqual({ tooLong: true });
    expect(MAX_DURATION_MS).toBe(Number((2n ** 63n - 1n) / 1_000_000n));
  });

  it('says a text is not in the notation apart from too long', () => {
    expect(parseDuration('5d')).toBeUndefined();
  });
});
