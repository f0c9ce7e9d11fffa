import type { Flow } from '@tycho/flow';
import type { HttpEndpoint, HttpStatusClass } from './model.ts';

/** Distinct method + path pairs kept per card; requests to further ones are not listed. */
export const MAX_HTTP_ENDPOINTS_PER_CARD = 32;

/**
 * The HTTP endpoints one card serves, from its L7 HTTP flows: requests count
 * per method + path (the URL's path, without query), and responses by status
 * class (the agent's response flows carry their request's method and URL).
 */
export class HttpEndpoints {
  private readonly byKey = new Map<string, HttpEndpoint>();

  /** Counts one L7 HTTP flow; returns whether the endpoints changed. */
  record(flow: Flow): boolean {
    const http = flow.l7?.http;
    if (!http?.method || http.url === undefined) return false;
    const response = flow.l7?.type === 'RESPONSE';
    if (response && http.code === undefined) return false;
    const path = pathOf(http.url);
    const key = `${http.method} ${path}`;
    let endpoint = this.byKey.get(key);
    if (!endpoint) {
      if (this.byKey.size >= MAX_HTTP_ENDPOINTS_PER_CARD) return false;
      endpoint = { method: http.method, path, requests: 0, statuses: {} };
      this.byKey.set(key, endpoint);
    }
    if (response) {
      const statusClass = statusClassOf(http.code!);
      endpoint.statuses[statusClass] = (endpoint.statuses[statusClass] ?? 0) + 1;
    } else {
      endpoint.requests += 1;
    }
    return true;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The endpoints, most requested first (then by path and method). */
  view(): HttpEndpoint[] {
    return [...this.byKey.values()]
      .map((endpoint) => ({ ...endpoint, statuses: { ...endpoint.statuses } }))
      .sort((a, b) => b.requests - a.requests || compare(a.path, b.path) || compare(a.method, b.method));
  }
}

/** `http://echo-a:8080/public?x=1` → `/public`; a bare target loses its query too. */
export function pathOf(url: string): string {
  const target = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') : url;
  const path = target.split(/[?#]/, 1)[0] ?? '';
  return path.startsWith('/') ? path : `/${path}`;
}

export function statusClassOf(code: number): HttpStatusClass {
  const hundreds = Math.floor(code / 100);
  return hundreds >= 1 && hundreds <= 5 ? (`${hundreds}xx` as HttpStatusClass) : 'other';
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
