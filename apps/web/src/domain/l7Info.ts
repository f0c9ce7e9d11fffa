import type { Layer7 } from '@tycho/flow';

/** The L7 info a flow row shows, from a flow's `l7` record. Pure formatting. */

/** `/public?x=1` from `http://echo-a:8080/public?x=1`; a URL without a scheme is kept as is. */
export function httpPathOf(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(url);
  if (!match) return url;
  return match[1] || '/';
}

/** `850 ns`, `420 µs`, `3.4 ms`, `27 ms`, `1.25 s`. */
export function formatLatency(ns: number): string {
  if (!Number.isFinite(ns) || ns < 0) return '';
  if (ns < 1e3) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${Math.round(ns / 1e3)} µs`;
  if (ns < 1e7) return `${(ns / 1e6).toFixed(1).replace(/\.0$/, '')} ms`;
  if (ns < 1e9) return `${Math.round(ns / 1e6)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

/**
 * `HTTP/1.1 200 GET /public · 3 ms` for an HTTP response, `HTTP/1.1 GET /public`
 * for a request, `DNS www.google.com. A` for DNS, or empty.
 */
export function formatL7Info(l7: Layer7 | undefined): string {
  const http = l7?.http;
  if (http) {
    const parts = [
      http.protocol,
      http.code ? String(http.code) : '',
      http.method,
      http.url ? httpPathOf(http.url) : '',
    ].filter(Boolean);
    const latency = l7?.latency_ns !== undefined ? formatLatency(l7.latency_ns) : '';
    return [parts.join(' '), latency].filter(Boolean).join(' · ');
  }
  const dns = l7?.dns;
  if (dns) return ['DNS', dns.query, dns.qtypes?.join(','), dns.rcode ? `rcode ${dns.rcode}` : ''].filter(Boolean).join(' ');
  return '';
}
