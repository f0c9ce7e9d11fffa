import { randomUUID } from 'node:crypto';
import { epochNsFromTimestamp, MonitorEventType, type Flow, type Layer7 } from '@tycho/flow';
import { dnsRcodeDescription, dnsTypeName, parseDnsMessage, parseDnsOverTcp, parseHttpHead, type DnsMessage, type HttpHead } from '@tycho/l7';
import type { EnrichedFlow } from './flowEnricher.ts';
import type { FqdnCache } from './fqdnCache.ts';

export interface L7TrackerOptions {
  /** Names from DNS answers go here. */
  fqdnCache: FqdnCache;
  /** The datapath's payload limit: a payload this long may be cut short of its message. */
  payloadMax?: number;
  /** Most DNS queries and HTTP connections waiting for their response. */
  maxPending?: number;
  /** A request older than this (by flow time) no longer waits for its response. */
  pendingTimeoutMs?: number;
  newUuid?: () => string;
}

const DNS_PORT = 53;
const DEFAULT_PAYLOAD_MAX = 256;
const DEFAULT_MAX_PENDING = 4096;
const DEFAULT_PENDING_TIMEOUT_MS = 30_000;
/** Pipelined requests beyond this on one connection are not waited for. */
const MAX_REQUESTS_PER_CONNECTION = 16;

interface PendingHttpRequest {
  timeNs: bigint;
  method: string;
  url: string;
}

/** The side that sent the request and the side that serves it. */
interface Ends {
  client: { ip: string; port: number };
  server: { ip: string; port: number };
}

/**
 * Turns the L7 payload of datapath events into Hubble `Type: L7` flows: DNS
 * queries and answers (paired by id and connection for latency, answers fed
 * to the FQDN cache) and HTTP/1.x request and response heads (paired in order
 * on their connection). Each message is reported once per node: at the
 * client's endpoint when the client is a local pod, else at the server's.
 *
 * What the payload allows: only a segment that starts a message is parsed, so
 * a head must be in the first 256 bytes of its segment; pipelined requests
 * sharing a segment give one record; retransmitted segments give a record
 * each; heads split over segments give the part in the first.
 */
export function createL7Tracker(options: L7TrackerOptions) {
  const payloadMax = options.payloadMax ?? DEFAULT_PAYLOAD_MAX;
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  const timeoutNs = BigInt(options.pendingTimeoutMs ?? DEFAULT_PENDING_TIMEOUT_MS) * 1_000_000n;
  const newUuid = options.newUuid ?? randomUUID;
  const dnsQueries = new Map<string, bigint>();
  const httpRequests = new Map<string, PendingHttpRequest[]>();

  /** Map order is last-activity order, so expired entries sit at the front. */
  function expire<V>(map: Map<string, V>, nowNs: bigint, timeOf: (value: V) => bigint): void {
    for (const [key, value] of map) {
      if (map.size <= maxPending && timeOf(value) + timeoutNs > nowNs) break;
      map.delete(key);
    }
  }

  /** The L7 flow for one event carrying payload, if its payload is a DNS or HTTP message to report here. */
  function observe(enriched: EnrichedFlow): Flow | undefined {
    const { flow, payload } = enriched;
    if (!payload || flow.verdict !== 'FORWARDED' || !flow.IP) return undefined;
    const tcp = flow.l4?.TCP;
    const ports = tcp ?? flow.l4?.UDP;
    if (ports?.source_port === undefined || ports.destination_port === undefined) return undefined;
    const timeNs = epochNsFromTimestamp(flow.time);
    if (timeNs === undefined) return undefined;
    const source = { ip: flow.IP.source, port: ports.source_port };
    const destination = { ip: flow.IP.destination, port: ports.destination_port };
    const mayBeTruncated = payload.length >= payloadMax;

    if (source.port === DNS_PORT || destination.port === DNS_PORT) {
      const message = tcp ? parseDnsOverTcp(payload, { mayBeTruncated }) : parseDnsMessage(payload, { mayBeTruncated });
      if (!message) return undefined;
      const ends = message.isResponse ? { client: destination, server: source } : { client: source, server: destination };
      if (!reportedHere(flow, !message.isResponse)) return undefined;
      return dnsFlow(flow, message, `${message.id}|${tcp ? 'tcp' : 'udp'}|${connectionKey(ends)}`, timeNs);
    }
    if (!tcp) return undefined;
    const head = parseHttpHead(payload);
    if (!head) return undefined;
    const isRequest = head.kind === 'request';
    if (!reportedHere(flow, isRequest)) return undefined;
    return httpFlow(flow, head, connectionKey(isRequest ? { client: source, server: destination } : { client: destination, server: source }), timeNs);
  }

  function dnsFlow(flow: Flow, message: DnsMessage, key: string, timeNs: bigint): Flow | undefined {
    const question = message.questions[0];
    if (!question) return undefined;
    const query = question.name;
    const qtypes = [dnsTypeName(question.type)];
    if (!message.isResponse) {
      dnsQueries.delete(key);
      dnsQueries.set(key, timeNs);
      expire(dnsQueries, timeNs, (sentNs) => sentNs);
      return l7Flow(flow, { type: 'REQUEST', dns: { query, qtypes } }, `DNS Query ${query} ${qtypes.join(',')}`);
    }
    const sentNs = dnsQueries.get(key);
    dnsQueries.delete(key);
    const ips = message.answers.flatMap((answer) => (answer.ip ? [answer.ip] : []));
    const cnames = message.answers.flatMap((answer) => (answer.cname ? [answer.cname] : []));
    const rrtypes = message.answers.map((answer) => dnsTypeName(answer.type));
    const ttl = message.answers.length > 0 ? Math.min(...message.answers.map((answer) => answer.ttl)) : 0;
    if (message.rcode === 0) {
      const name = query.endsWith('.') && query !== '.' ? query.slice(0, -1) : query;
      for (const answer of message.answers) if (answer.ip) options.fqdnCache.learn(answer.ip, name, answer.ttl);
    }
    const l7: Layer7 = {
      type: 'RESPONSE',
      ...(sentNs !== undefined && timeNs >= sentNs ? { latency_ns: Number(timeNs - sentNs) } : {}),
      dns: {
        query,
        ...(ips.length > 0 ? { ips } : {}),
        ...(ttl > 0 ? { ttl } : {}),
        ...(cnames.length > 0 ? { cnames } : {}),
        ...(message.rcode !== 0 ? { rcode: message.rcode } : {}),
        qtypes,
        ...(rrtypes.length > 0 ? { rrtypes } : {}),
      },
    };
    return l7Flow(flow, l7, `DNS Answer ${dnsAnswerText(message, ips, cnames)} TTL: ${ttl} (Proxy ${query} ${qtypes.join(',')})`);
  }

  function httpFlow(flow: Flow, head: HttpHead, key: string, timeNs: bigint): Flow {
    if (head.kind === 'request') {
      const host = head.headers.find((header) => header.key === 'Host')?.value;
      const url = host && head.target.startsWith('/') ? `http://${host}${head.target}` : head.target;
      const queue = httpRequests.get(key) ?? [];
      httpRequests.delete(key);
      if (queue.length < MAX_REQUESTS_PER_CONNECTION) queue.push({ timeNs, method: head.method, url });
      httpRequests.set(key, queue);
      expire(httpRequests, timeNs, (pending) => pending[pending.length - 1]?.timeNs ?? 0n);
      return l7Flow(
        flow,
        { type: 'REQUEST', http: { method: head.method, url, protocol: head.protocol, headers: head.headers } },
        `${head.protocol} ${head.method} ${url}`,
      );
    }
    const queue = httpRequests.get(key);
    const request = queue?.shift();
    if (queue && queue.length === 0) httpRequests.delete(key);
    const latencyNs = request && timeNs >= request.timeNs ? Number(timeNs - request.timeNs) : undefined;
    const l7: Layer7 = {
      type: 'RESPONSE',
      ...(latencyNs !== undefined ? { latency_ns: latencyNs } : {}),
      http: {
        code: head.code,
        ...(request ? { method: request.method, url: request.url } : {}),
        protocol: head.protocol,
        headers: head.headers,
      },
    };
    const summary = request
      ? `${head.protocol} ${head.code} ${Math.floor((latencyNs ?? 0) / 1e6)}ms (${request.method} ${request.url})`
      : `${head.protocol} ${head.code}`;
    return l7Flow(flow, l7, summary);
  }

  function l7Flow(flow: Flow, l7: Layer7, summary: string): Flow {
    return {
      time: flow.time,
      uuid: newUuid(),
      verdict: flow.verdict,
      ...(flow.IP ? { IP: flow.IP } : {}),
      ...(flow.l4 ? { l4: flow.l4 } : {}),
      ...(flow.source ? { source: flow.source } : {}),
      ...(flow.destination ? { destination: flow.destination } : {}),
      Type: 'L7',
      node_name: flow.node_name,
      ...(flow.source_names ? { source_names: flow.source_names } : {}),
      ...(flow.destination_names ? { destination_names: flow.destination_names } : {}),
      is_reply: l7.type === 'RESPONSE',
      event_type: { type: MonitorEventType.L7 },
      ...(flow.source_service ? { source_service: flow.source_service } : {}),
      ...(flow.destination_service ? { destination_service: flow.destination_service } : {}),
      ...(flow.traffic_direction ? { traffic_direction: flow.traffic_direction } : {}),
      l7,
      Summary: summary,
    };
  }

  return {
    observe,
    /** Queries and connections waiting for a response (for tests and status). */
    pendingCount: () => dnsQueries.size + httpRequests.size,
  } as const;
}

export type L7Tracker = ReturnType<typeof createL7Tracker>;

/**
 * One report per message per node: a packet is seen leaving the sender's pod
 * and entering the receiver's, so only the client's endpoint reports when the
 * client is a local pod (it has an endpoint ID), and the server's otherwise.
 */
function reportedHere(flow: Flow, isRequest: boolean): boolean {
  const client = isRequest ? flow.source : flow.destination;
  const atClient = isRequest ? 'FROM_ENDPOINT' : 'TO_ENDPOINT';
  const atServer = isRequest ? 'TO_ENDPOINT' : 'FROM_ENDPOINT';
  return flow.trace_observation_point === (client?.ID !== undefined ? atClient : atServer);
}

function connectionKey({ client, server }: Ends): string {
  return `${client.ip}|${client.port}|${server.ip}|${server.port}`;
}

/** Hubble's answer text: the rcode when it is not NOERROR, else the quoted IPs and CNAMEs. */
function dnsAnswerText(message: DnsMessage, ips: string[], cnames: string[]): string {
  if (message.rcode !== 0) return `RCode: ${dnsRcodeDescription(message.rcode)}`;
  const parts: string[] = [];
  if (ips.length > 0) parts.push(JSON.stringify(ips.join(',')));
  if (cnames.length > 0) parts.push(`CNAMEs: ${JSON.stringify(cnames.join(','))}`);
  return parts.join(' ');
}
