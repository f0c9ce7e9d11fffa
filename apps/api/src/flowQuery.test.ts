import { describe, expect, it } from 'vitest';
import { DEFAULT_NUMBER, parseFlowsQuery, parseNamespace, parseServiceMapQuery, parseSince } from './flowQuery.ts';

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

  it('reads a duration ago from the clock each query is parsed with, not the first clock it met', () => {
    for (const nowMs of [NOW, NOW + 60_000, NOW]) {
      const parsed = parseFlowsQuery({ since: '1m' }, () => nowMs);
      expect(parsed.ok && parsed.value.sinceNs).toBe(BigInt(nowMs - 60_000) * 1_000_000n);
      const map = parseServiceMapQuery({ since: '1m' }, () => nowMs);
      expect(map.ok && map.value.sinceNs).toBe(BigInt(nowMs - 60_000) * 1_000_000n);
    }
  });

  it('refuses an until before since', () => {
    expect(parseFlowsQuery({ since: '1m', until: '2m' }, () => NOW)).toEqual({ ok: false, error: 'until: is before since' });
  });

  it('refuses a duration that reaches back before 1970, such as 1 and 400 zeros h, naming the parameter', () => {
    const huge = `1${'0'.repeat(400)}h`;
    for (const name of ['since', 'until'] as const) {
      const parsed = parseFlowsQuery({ [name]: huge }, () => NOW);
      expect(parsed).toEqual({
        ok: false,
        error: `${name}: '1${'0'.repeat(39)}…' reaches back before 1970-01-01T00:00:00Z; a duration ago may be at most 473352h, or give an RFC 3339 time`,
      });
    }
    expect(parseFlowsQuery({ since: '473353h' }, () => NOW).ok).toBe(false);
    expect(parseFlowsQuery({ since: '473352h' }, () => NOW).ok).toBe(true);
  });

  it('refuses an RFC 3339 time that does not exist, such as 2024-02-30, saying why', () => {
    expect(parseFlowsQuery({ since: '2024-02-30T00:00:00Z' }, () => NOW)).toEqual({
      ok: false,
      error: "since: '2024-02-30T00:00:00Z' is not a real time: day 30 does not exist in 2024-02 (it has 29 days)",
    });
    expect(parseFlowsQuery({ until: '2024-01-01T25:00:00Z' }, () => NOW)).toEqual({ ok: false, error: "until: '2024-01-01T25:00:00Z' is not a real time: hour 25 is out of range (00–23)" });
  });

  it('answers a whitelist nested 5,000 levels deep with an error naming where', () => {
    const deep = `[{"source_ip":${'['.repeat(5000)}${']'.repeat(5000)}}]`;
    const parsed = parseFlowsQuery({ whitelist: deep }, () => NOW);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/^whitelist\[0\]\.source_ip\[0\]: \[\[\[.* is not a string/);
  });

  it('repeats at most 40 characters of a bad value', () => {
    const parsed = parseFlowsQuery({ number: '9'.repeat(10_000) }, () => NOW);
    expect(parsed).toEqual({ ok: false, error: `number: '${'9'.repeat(40)}…' is not a whole number from 1 to 65535` });
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

  it('names an unknown parameter too long to repeat after the query', () => {
    expect(parseServiceMapQuery({ ['n'.repeat(1000)]: 'default' })).toEqual({
      ok: false,
      error: `query: unknown parameter '${'n'.repeat(40)}…' (1000 characters); expected namespace, since`,
    });
  });

  it('refuses a namespace longer than 63 characters', () => {
    expect(parseServiceMapQuery({ namespace: 'a'.repeat(8000) })).toEqual({
      ok: false,
      error: `namespace: '${'a'.repeat(40)}…' is 8000 characters long; a namespace name has at most 63 (a DNS-1123 label); expected a namespace name or 'all'`,
    });
  });
});

describe('namespace of a query or subscription', () => {
  it('reads all as every namespace and a DNS-1123 label as itself', () => {
    expect(parseNamespace('all')).toEqual({ ok: true, value: undefined });
    expect(parseNamespace('kube-system')).toEqual({ ok: true, value: 'kube-system' });
    expect(parseNamespace('a'.repeat(64)).ok).toBe(false);
  });
});

describe('stream since', () => {
  it('reads the same notation as the query parameter, with the same bounds', () => {
    expect(parseSince('5m', () => NOW)).toEqual({ ok: true, value: BigInt(NOW - 5 * 60_000) * 1_000_000n });
    expect(parseSince(`1${'0'.repeat(400)}h`, () => NOW)).toMatchObject({ ok: false, error: expect.stringMatching(/^since: .* reaches back before 1970/) });
    expect(parseSince('2024-02-30T00:00:00Z', () => NOW)).toMatchObject({ ok: false, error: expect.stringMatching(/^since: .* is not a real time/) });
  });
});
