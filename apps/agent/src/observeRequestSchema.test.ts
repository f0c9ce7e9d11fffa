import { describe, expect, it } from 'vitest';
import { parseObserveRequest } from './observeRequestSchema.ts';

describe('parseObserveRequest', () => {
  it('takes the range and validated filters', () => {
    expect(parseObserveRequest({ number: 5, since: '2024-02-29T00:00:00.5+01:00', whitelist: [{ verdict: [2] }] })).toEqual({
      ok: true,
      request: { number: 5, since: '2024-02-29T00:00:00.5+01:00', whitelist: [{ verdict: ['DROPPED'] }] },
    });
  });

  it('refuses a time that does not exist, saying why', () => {
    expect(parseObserveRequest({ since: '2024-02-30T00:00:00Z' })).toEqual({
      ok: false,
      error: 'invalid observe request: since: not a real time: day 30 does not exist in 2024-02 (it has 29 days)',
    });
  });

  it('refuses a time the observer could not read (ten fraction digits) instead of ignoring it', () => {
    expect(parseObserveRequest({ until: '2024-01-01T00:00:00.1234567891Z' })).toEqual({
      ok: false,
      error: 'invalid observe request: until: expected an RFC 3339 time such as 2024-01-01T00:00:00Z',
    });
  });

  it('answers filters nested 5,000 levels deep with an error naming where', () => {
    const nested = JSON.parse(`[{"source_ip":${'['.repeat(5000)}${']'.repeat(5000)}}]`) as unknown;
    const parsed = parseObserveRequest({ whitelist: nested });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/^invalid observe request: whitelist\[0\]\.source_ip\[0\]: \[\[\[.* is not a string/);
  });

  it('refuses a regular expression RE2 refuses and a namespace longer than 63 characters', () => {
    expect(parseObserveRequest({ blacklist: [{ dns_query: ['(?=x)'] }] })).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid observe request: blacklist\[0\]\.dns_query\[0\]: .* \(RE2 syntax/) });
    expect(parseObserveRequest({ whitelist: [{ source_pod: [`${'n'.repeat(64)}/`] }] })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/source_pod\[0\]: .* namespace 'n+…' is 64 characters long; a namespace name has at most 63/),
    });
  });
});
