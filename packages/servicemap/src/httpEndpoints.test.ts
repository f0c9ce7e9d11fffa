import { describe, expect, it } from 'vitest';
import type { Flow } from '@tycho/flow';
import { HttpEndpoints, MAX_HTTP_ENDPOINTS_PER_CARD, pathOf, statusClassOf } from './httpEndpoints.ts';
import { ServiceMap } from './serviceMap.ts';
import { pod, tcpFlow } from './testFlows.ts';

const podToA = pod('default', 'pod-to-a', 300);
const echoA = pod('default', 'echo-a', 301);

function request(method: string, url: string): Flow {
  return { ...tcpFlow({ from: podToA, to: echoA }), Type: 'L7', l7: { type: 'REQUEST', http: { method, url, protocol: 'HTTP/1.1' } } };
}

function response(method: string, url: string, code: number): Flow {
  return {
    ...tcpFlow({ from: echoA, to: podToA, fromIp: '10.244.1.20', toIp: '10.244.0.10', sport: 8080, dport: 40000, reply: true, point: 'TO_ENDPOINT' }),
    Type: 'L7',
    l7: { type: 'RESPONSE', latency_ns: 1_000_000, http: { code, method, url, protocol: 'HTTP/1.1' } },
  };
}

describe('pathOf', () => {
  it('takes the path of an absolute URL and drops the query', () => {
    expect(pathOf('http://echo-a:8080/public?x=1')).toBe('/public');
    expect(pathOf('http://echo-a:8080')).toBe('/');
  });

  it('keeps a bare target’s path without query or fragment', () => {
    expect(pathOf('/private/item#top')).toBe('/private/item');
    expect(pathOf('*')).toBe('/*');
  });
});

describe('statusClassOf', () => {
  it('groups codes by hundreds, anything else as other', () => {
    expect([101, 200, 302, 404, 503, 99, 600].map(statusClassOf)).toEqual(['1xx', '2xx', '3xx', '4xx', '5xx', 'other', 'other']);
  });
});

describe('HttpEndpoints', () => {
  it('counts requests per method and path, and responses by status class', () => {
    const endpoints = new HttpEndpoints();
    for (const flow of [request('GET', 'http://echo-a:8080/public'), request('GET', 'http://echo-a:8080/public?n=2'), request('POST', '/items'), response('GET', 'http://echo-a:8080/public', 200), response('GET', 'http://echo-a:8080/public', 404)]) {
      expect(endpoints.record(flow)).toBe(true);
    }
    expect(endpoints.view()).toEqual([
      { method: 'GET', path: '/public', requests: 2, statuses: { '2xx': 1, '4xx': 1 } },
      { method: 'POST', path: '/items', requests: 1, statuses: {} },
    ]);
  });

  it('ignores flows without method, URL or (for responses) status', () => {
    const endpoints = new HttpEndpoints();
    const noCode = response('GET', '/', 200);
    delete noCode.l7!.http!.code;
    expect(endpoints.record({ ...request('GET', '/'), l7: { type: 'REQUEST', http: { url: '/' } } })).toBe(false);
    expect(endpoints.record(noCode)).toBe(false);
    expect(endpoints.size).toBe(0);
  });

  it(`keeps at most ${MAX_HTTP_ENDPOINTS_PER_CARD} endpoints and still counts the known ones`, () => {
    const endpoints = new HttpEndpoints();
    for (let i = 0; i <= MAX_HTTP_ENDPOINTS_PER_CARD; i++) endpoints.record(request('GET', `/item/${i}`));
    expect(endpoints.size).toBe(MAX_HTTP_ENDPOINTS_PER_CARD);
    expect(endpoints.record(request('GET', '/item/0'))).toBe(true);
    expect(endpoints.view()[0]).toEqual({ method: 'GET', path: '/item/0', requests: 2, statuses: {} });
  });
});

describe('ServiceMap HTTP endpoints', () => {
  it('lists on the destination card the endpoints of its L7 HTTP requests and responses', () => {
    const map = new ServiceMap({ now: () => Date.parse('2024-01-01T00:00:00Z') });
    map.add(tcpFlow({ from: podToA, to: echoA }));
    map.add(request('GET', 'http://echo-a:8080/public'));
    map.add(response('GET', 'http://echo-a:8080/public', 200));
    const cards = map.snapshot().cards;
    expect(cards.find((card) => card.id === 'default/echo-a')?.httpEndpoints).toEqual([{ method: 'GET', path: '/public', requests: 1, statuses: { '2xx': 1 } }]);
    expect(cards.find((card) => card.id === 'default/pod-to-a')?.httpEndpoints).toBeUndefined();
  });

  it('reports the card as changed when its endpoints count another request', () => {
    const map = new ServiceMap({ now: () => Date.parse('2024-01-01T00:00:00Z') });
    map.add(tcpFlow({ from: podToA, to: echoA }));
    map.add(request('GET', '/public'));
    const version = map.version;
    map.add(request('GET', '/public'));
    const changes = map.changesSince(version);
    expect(changes.cards.map((card) => [card.id, card.httpEndpoints?.[0]?.requests])).toEqual([['default/echo-a', 2]]);
  });
});
