import { describe, expect, it } from 'vitest';
import { formatL7Info, formatLatency, httpPathOf } from './l7Info.ts';

describe('L7 info', () => {
  it('shows an HTTP response with protocol, status, method, path and latency', () => {
    expect(formatL7Info({
      type: 'RESPONSE',
      latency_ns: 3_000_000,
      http: { code: 200, method: 'GET', url: 'http://echo-a:8080/public', protocol: 'HTTP/1.1' },
    })).toBe('HTTP/1.1 200 GET /public · 3 ms');
  });

  it('shows an HTTP request without status or latency', () => {
    expect(formatL7Info({ type: 'REQUEST', http: { method: 'POST', url: 'http://echo-b:8080/private?x=1', protocol: 'HTTP/1.1' } }))
      .toBe('HTTP/1.1 POST /private?x=1');
  });

  it('shows an unpaired HTTP response by its status alone', () => {
    expect(formatL7Info({ type: 'RESPONSE', http: { code: 404, protocol: 'HTTP/1.0' } })).toBe('HTTP/1.0 404');
  });

  it('shows DNS queries and nothing for flows without L7', () => {
    expect(formatL7Info({ type: 'REQUEST', dns: { query: 'www.google.com.', qtypes: ['A'] } })).toBe('DNS www.google.com. A');
    expect(formatL7Info({ type: 'RESPONSE', dns: { query: 'nope.', qtypes: ['A'], rcode: 3 } })).toBe('DNS nope. A rcode 3');
    expect(formatL7Info(undefined)).toBe('');
  });

  it('takes the path from a URL', () => {
    expect(httpPathOf('http://echo-a:8080/public')).toBe('/public');
    expect(httpPathOf('https://example.com')).toBe('/');
    expect(httpPathOf('/already/a/path')).toBe('/already/a/path');
  });

  it('formats latencies from nanoseconds to seconds', () => {
    expect(formatLatency(850)).toBe('850 ns');
    expect(formatLatency(420_000)).toBe('420 µs');
    expect(formatLatency(3_400_000)).toBe('3.4 ms');
    expect(formatLatency(27_400_000)).toBe('27 ms');
    expect(formatLatency(1_250_000_000)).toBe('1.25 s');
  });
});
