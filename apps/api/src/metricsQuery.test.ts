import { describe, expect, it } from 'vitest';
import { parseMetricsQuery } from './metricsQuery.ts';

describe('parseMetricsQuery', () => {
  it('defaults to the last 5 minutes of all namespaces', () => {
    expect(parseMetricsQuery({})).toEqual({ ok: true, value: { window: '5m', namespace: 'all' } });
  });

  it('takes each window and a namespace', () => {
    for (const window of ['1m', '5m', '15m', '1h']) {
      expect(parseMetricsQuery({ window, namespace: 'default' })).toEqual({ ok: true, value: { window, namespace: 'default' } });
    }
  });

  it('names the window parameter and the choices for an unknown window', () => {
    expect(parseMetricsQuery({ window: '2m' })).toEqual({ ok: false, error: "window: '2m' is not a window; expected one of 1m, 5m, 15m, 1h" });
  });

  it('names the namespace parameter for a name Kubernetes would refuse', () => {
    expect(parseMetricsQuery({ namespace: 'Bad_NS' })).toEqual({
      ok: false,
      error: "namespace: 'Bad_NS' is not a namespace name (lower-case letters, digits and '-', starting and ending with a letter or digit); expected a namespace name or 'all'",
    });
  });

  it('refuses a namespace longer than the 63 characters of a DNS-1123 label, without repeating it all', () => {
    expect(parseMetricsQuery({ namespace: 'a'.repeat(63) })).toEqual({ ok: true, value: { window: '5m', namespace: 'a'.repeat(63) } });
    const parsed = parseMetricsQuery({ namespace: 'a'.repeat(8000) });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/^namespace: 'a{40}…' is 8000 characters long; a namespace name has at most 63 \(a DNS-1123 label\)/);
  });

  it('refuses unknown and repeated parameters', () => {
    expect(parseMetricsQuery({ since: '5m' })).toEqual({ ok: false, error: 'since: unknown parameter; expected window, namespace' });
    expect(parseMetricsQuery({ window: ['1m', '5m'] })).toEqual({ ok: false, error: 'window: given more than once; give it once' });
  });
});
