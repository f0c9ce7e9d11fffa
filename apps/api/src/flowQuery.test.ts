import { describe, expect, it } from 'vitest';
import { DEFAULT_NUMBER, parseFlowsQuery, parseServiceMapQuery } from './flowQuery.ts';

const NOW = Date.UTC(2024, 0, 1, 0, 10);

describe('flows query', () => {
  it('defaults to the last 20 flows without number, since or until', () => {
    expect(parseFlowsQuery({}, () => NOW)).toEqual({
      ok: true,
      value: { whitelist: [], blacklist: [], number: DEFAULT_NUMBER, first: false, sinceNs: undefined, untilNs: undefined },
    });
  });

  it('reads since as a duration ago or an RFC 3339 time', () => {
    const parsed = parseFlowsQuery({ since: '5m', until: '2024-01-01T00:09:00.5Z' }, () => NOW);
    expect(parsed.ok && parsed.value).toMatchObject({
      number: undefined,
      sinceNs: BigInt(NOW - 5 * 60_000) * 1_000_000n,
      untilNs: BigInt(NOW - 59_500) * 1_000_000n,
    });
  });

  it('refuses an until before since', () => {
    expect(parseFlowsQuery({ since: '1m', until: '2m' }, () => NOW)).toEqual({ ok: false, error: 'until: is before since' });
  });

  it('keeps validated filters', () => {
    const parsed = parseFlowsQuery({ whitelist: '[{"verdict":[2]}]', number: '3' }, () => NOW);
    expect(parsed.ok && parsed.value).toMatchObject({ whitelist: [{ verdict: ['DROPPED'] }], number: 3 });
  });
});

describe('service-map query', () => {
  it('reads all as every namespace', () => {
    expect(parseServiceMapQuery({ namespace: 'all' })).toEqual({ ok: true, value: { namespace: undefined, sinceNs: undefined } });
  });

  it('names an unknown parameter', () => {
    expect(parseServiceMapQuery({ ns: 'default' })).toEqual({ ok: false, error: 'ns: unknown parameter; expected namespace, since' });
  });
});
