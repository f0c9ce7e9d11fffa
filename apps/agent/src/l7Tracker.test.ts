import { describe, expect, it } from 'vitest';
import type { Flow } from '@tycho/flow';
import { FqdnCache } from './fqdnCache.ts';
import { createL7Tracker } from './l7Tracker.ts';

const CLIENT = '10.244.0.5';
const DNS_SERVER = '10.244.1.2';
const ECHO = '10.244.1.9';

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}
const ascii = (text: string) => new TextEncoder().encode(text);

const QUERY = hex('1a2b 0100 0001 0000 0000 0000  03 777777 06 676f6f676c65 03 636f6d 00 0001 0001');
const ANSWER = hex(`
  1a2b 8180 0001 0002 0000 0000  03 777777 06 676f6f676c65 03 636f6d 00 0001 0001
  c00c 0005 0001 0000012c 0008  03 777777 01 6c c010
  c02c 0001 0001 0000001e 0004  c633640e
`);
const NXDOMAIN = hex('1a2c 8183 0001 0000 0000 0000  06 6e6f73756368 07 6578616d706c65 03 636f6d 00 0001 0001');
const GET = ascii('GET /public HTTP/1.1\r\nHost: echo-a:8080\r\nUser-Agent: curl/7.88.1\r\n\r\n');
const OK = ascii('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');

interface Packet {
  atMs: number;
  from: [string, number];
  to: [string, number];
  proto: 'TCP' | 'UDP';
  point: 'FROM_ENDPOINT' | 'TO_ENDPOINT';
  isReply: boolean;
  /** Which side is a pod on this node (has an endpoint ID). */
  local: 'source' | 'destination' | 'both';
}

/** An enriched flow as the agent hands it over, with the packet's payload. */
function event(packet: Packet, payload: Uint8Array) {
  const ports = { source_port: packet.from[1], destination_port: packet.to[1] };
  const endpoint = (side: 'source' | 'destination') => (packet.local === side || packet.local === 'both' ? { ID: side === 'source' ? 1 : 2, identity: 300 } : { identity: 2 });
  const flow: Flow = {
    time: new Date(Date.UTC(2024, 0, 1) + packet.atMs).toISOString(),
    uuid: 'u',
    verdict: 'FORWARDED',
    IP: { source: packet.from[0], destination: packet.to[0], ipVersion: 'IPv4' },
    l4: packet.proto === 'TCP' ? { TCP: { ...ports, flags: { PSH: true, ACK: true } } } : { UDP: ports },
    source: endpoint('source'),
    destination: endpoint('destination'),
    Type: 'L3_L4',
    node_name: 'node-1',
    event_type: { type: 4, sub_type: 4 },
    trace_observation_point: packet.point,
    traffic_direction: 'EGRESS',
    is_reply: packet.isReply,
  };
  return { flow, payload };
}

function tracker() {
  let uuid = 0;
  const fqdnCache = new FqdnCache({ now: () => Date.UTC(2024, 0, 1) });
  return { fqdnCache, l7: createL7Tracker({ fqdnCache, newUuid: () => `l7-${++uuid}`, maxPending: 4, pendingTimeoutMs: 10_000 }) };
}

const dnsQuery = (atMs: number, port = 40000): Packet => ({ atMs, from: [CLIENT, port], to: [DNS_SERVER, 53], proto: 'UDP', point: 'FROM_ENDPOINT', isReply: false, local: 'source' });
const dnsAnswer = (atMs: number, port = 40000): Packet => ({ atMs, from: [DNS_SERVER, 53], to: [CLIENT, port], proto: 'UDP', point: 'TO_ENDPOINT', isReply: true, local: 'destination' });
const httpRequest = (atMs: number): Packet => ({ atMs, from: [CLIENT, 51000], to: [ECHO, 8080], proto: 'TCP', point: 'FROM_ENDPOINT', isReply: false, local: 'source' });
const httpResponse = (atMs: number): Packet => ({ atMs, from: [ECHO, 8080], to: [CLIENT, 51000], proto: 'TCP', point: 'TO_ENDPOINT', isReply: true, local: 'destination' });

describe('l7Tracker DNS', () => {
  it('reports a query as an L7 REQUEST with Hubble’s summary', () => {
    const flow = tracker().l7.observe(event(dnsQuery(0), QUERY));
    expect(flow).toMatchObject({
      Type: 'L7', uuid: 'l7-1', event_type: { type: 129 }, verdict: 'FORWARDED', is_reply: false,
      IP: { source: CLIENT, destination: DNS_SERVER },
      l7: { type: 'REQUEST', dns: { query: 'www.google.com.', qtypes: ['A'] } },
      Summary: 'DNS Query www.google.com. A',
    });
    expect(flow?.l7?.latency_ns).toBeUndefined();
    expect(flow?.trace_observation_point).toBeUndefined();
  });

  it('reports the answer with IPs, CNAMEs, lowest TTL and the latency since its query', () => {
    const { l7 } = tracker();
    l7.observe(event(dnsQuery(1000), QUERY));
    const flow = l7.observe(event(dnsAnswer(1003), ANSWER));
    expect(flow).toMatchObject({
      is_reply: true,
      l7: {
        type: 'RESPONSE', latency_ns: 3_000_000,
        dns: { query: 'www.google.com.', ips: ['198.51.100.14'], ttl: 30, cnames: ['www.l.google.com.'], qtypes: ['A'], rrtypes: ['CNAME', 'A'] },
      },
      Summary: 'DNS Answer "198.51.100.14" CNAMEs: "www.l.google.com." TTL: 30 (Proxy www.google.com. A)',
    });
    expect(l7.pendingCount()).toBe(0);
  });

  it('pairs an answer only with the query of the same id and connection', () => {
    const { l7 } = tracker();
    l7.observe(event(dnsQuery(1000, 40001), QUERY));
    expect(l7.observe(event(dnsAnswer(1003, 40000), ANSWER))?.l7?.latency_ns).toBeUndefined();
  });

  it('reports NXDOMAIN with its rcode in the summary', () => {
    const flow = tracker().l7.observe(event(dnsAnswer(0), NXDOMAIN));
    expect(flow?.l7?.dns).toEqual({ query: 'nosuch.example.com.', rcode: 3, qtypes: ['A'] });
    expect(flow?.Summary).toBe('DNS Answer RCode: Non-Existent Domain TTL: 0 (Proxy nosuch.example.com. A)');
  });

  it('teaches the FQDN cache the answer’s addresses under the query name', () => {
    const { l7, fqdnCache } = tracker();
    l7.observe(event(dnsAnswer(0), ANSWER));
    expect(fqdnCache.namesOf('198.51.100.14')).toEqual(['www.google.com']);
  });

  it('reads DNS over TCP after its length prefix', () => {
    const framed = new Uint8Array([0, QUERY.length, ...QUERY]);
    const flow = tracker().l7.observe(event({ ...dnsQuery(0), proto: 'TCP' }, framed));
    expect(flow?.Summary).toBe('DNS Query www.google.com. A');
  });

  it('reports a message once: at the client’s endpoint when the client is local', () => {
    const { l7 } = tracker();
    const intraNode = { local: 'both' as const };
    expect(l7.observe(event({ ...dnsQuery(0), ...intraNode }, QUERY))).toBeDefined();
    expect(l7.observe(event({ ...dnsQuery(0), ...intraNode, point: 'TO_ENDPOINT' }, QUERY))).toBeUndefined();
    expect(l7.observe(event({ ...dnsAnswer(1), ...intraNode, point: 'FROM_ENDPOINT' }, ANSWER))).toBeUndefined();
    expect(l7.observe(event({ ...dnsAnswer(1), ...intraNode }, ANSWER))?.l7?.latency_ns).toBe(1_000_000);
  });

  it('reports at the server’s endpoint when the client is not a local pod', () => {
    const { l7 } = tracker();
    const remoteClient = { local: 'destination' as const, point: 'TO_ENDPOINT' as const };
    expect(l7.observe(event({ ...dnsQuery(0), ...remoteClient }, QUERY))).toBeDefined();
    const answer = l7.observe(event({ ...dnsAnswer(2), local: 'source', point: 'FROM_ENDPOINT' }, ANSWER));
    expect(answer?.l7?.latency_ns).toBe(2_000_000);
  });

  it('gives no flow for garbage on port 53 or for a dropped packet', () => {
    const { l7 } = tracker();
    expect(l7.observe(event(dnsQuery(0), ascii('hello')))).toBeUndefined();
    const dropped = event(dnsQuery(0), QUERY);
    dropped.flow.verdict = 'DROPPED';
    expect(l7.observe(dropped)).toBeUndefined();
  });

  it('forgets queries that wait longer than the timeout, and holds at most maxPending', () => {
    const { l7 } = tracker();
    for (let port = 0; port < 10; port++) l7.observe(event(dnsQuery(port, 41000 + port), QUERY));
    expect(l7.pendingCount()).toBe(4);
    l7.observe(event(dnsQuery(20_000, 42000), QUERY));
    expect(l7.pendingCount()).toBe(1);
    expect(l7.observe(event(dnsAnswer(20_001, 41009), ANSWER))?.l7?.latency_ns).toBeUndefined();
  });
});

describe('l7Tracker HTTP', () => {
  it('reports a request with method, URL from the Host header, protocol and headers', () => {
    const flow = tracker().l7.observe(event(httpRequest(0), GET));
    expect(flow).toMatchObject({
      Type: 'L7', event_type: { type: 129 },
      l7: {
        type: 'REQUEST',
        http: { method: 'GET', url: 'http://echo-a:8080/public', protocol: 'HTTP/1.1', headers: [{ key: 'Host', value: 'echo-a:8080' }, { key: 'User-Agent', value: 'curl/7.88.1' }] },
      },
      Summary: 'HTTP/1.1 GET http://echo-a:8080/public',
    });
  });

  it('pairs the response with the request on its connection for method, URL and latency', () => {
    const { l7 } = tracker();
    l7.observe(event(httpRequest(5000), GET));
    const flow = l7.observe(event(httpResponse(5012), OK));
    expect(flow).toMatchObject({
      is_reply: true,
      l7: { type: 'RESPONSE', latency_ns: 12_000_000, http: { code: 200, method: 'GET', url: 'http://echo-a:8080/public', protocol: 'HTTP/1.1' } },
      Summary: 'HTTP/1.1 200 12ms (GET http://echo-a:8080/public)',
    });
    expect(l7.pendingCount()).toBe(0);
  });

  it('pairs keep-alive requests and responses in order', () => {
    const { l7 } = tracker();
    l7.observe(event(httpRequest(0), GET));
    l7.observe(event(httpRequest(1), ascii('POST /echo HTTP/1.1\r\nHost: echo-a:8080\r\n\r\n')));
    expect(l7.observe(event(httpResponse(3), OK))?.l7).toMatchObject({ latency_ns: 3_000_000, http: { method: 'GET' } });
    expect(l7.observe(event(httpResponse(4), OK))?.l7).toMatchObject({ latency_ns: 3_000_000, http: { method: 'POST', url: 'http://echo-a:8080/echo' } });
  });

  it('reports a response without a request seen as a response without latency', () => {
    const flow = tracker().l7.observe(event(httpResponse(0), OK));
    expect(flow?.l7).toEqual({ type: 'RESPONSE', http: { code: 200, protocol: 'HTTP/1.1', headers: [{ key: 'Content-Length', value: '2' }] } });
    expect(flow?.Summary).toBe('HTTP/1.1 200');
  });

  it('gives no flow for a body segment or HTTP over UDP', () => {
    const { l7 } = tracker();
    expect(l7.observe(event(httpResponse(0), ascii('{"path":"/public"}')))).toBeUndefined();
    expect(l7.observe(event({ ...httpRequest(0), proto: 'UDP' }, GET))).toBeUndefined();
  });
});
