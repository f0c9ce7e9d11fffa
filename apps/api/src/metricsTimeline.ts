import { dropReasonName, isPolicyVerdict, type Flow } from '@tycho/flow';
import { LatencyHistogram } from './latencyHistogram.ts';

/** The time windows `GET /api/v1/metrics` offers, and their length in seconds. */
export const METRICS_WINDOWS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600 } as const;
export type MetricsWindow = keyof typeof METRICS_WINDOWS;

/** DNS response codes by the mnemonic `dig` prints (RFC 6895); others as `RCODE<n>`. */
const DNS_RCODES: Readonly<Record<number, string>> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
  6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
};

export function dnsRcodeName(rcode: number): string {
  return DNS_RCODES[rcode] ?? `RCODE${rcode}`;
}

/** `GET /api/v1/metrics`: what the relayed flows of one window say. */
export interface MetricsSummary {
  window: MetricsWindow;
  namespace: string;
  /** The window: `[start, end)`, RFC 3339. */
  start: string;
  end: string;
  step_seconds: number;
  flows: {
    total: number;
    by_verdict: Record<string, number>;
    /** Flows/s by verdict per step, oldest first; each point is labelled with the start of its step. */
    per_second: { time: string; verdicts: Record<string, number> }[];
  };
  drops: { total: number; by_reason: { reason: string; flows: number }[] };
  /** Destination ports of forwarded requests (not replies), most flows first. */
  top_ports: { port: number; protocol: string; flows: number }[];
  dns: { queries: number; responses: number; by_rcode: { rcode: string; responses: number }[] };
  http: {
    responses: number;
    by_status: { status: number; responses: number }[];
    /** Percentiles of the responses' latency in milliseconds; null without any latency. */
    latency_ms: { p50: number; p90: number; p99: number } | null;
  };
}

export interface MetricsTimelineOptions {
  /** Length of one bucket; default 5 s. */
  bucketMs?: number;
  /** How long buckets are kept; default 1 h (the longest window). */
  retentionMs?: number;
  /** Namespaces tracked per bucket beyond `all`; flows of further ones count in `all` only. Default 64. */
  maxNamespacesPerBucket?: number;
  /** Distinct ports kept per bucket and namespace; further ones are not counted. Default 256. */
  maxPortsPerBucket?: number;
  now?: () => number;
}

/** What one bucket counts for one namespace (or for all of them). */
class Counters {
  flows = 0;
  readonly verdicts = new Map<string, number>();
  readonly dropReasons = new Map<string, number>();
  readonly ports = new Map<string, number>();
  dnsQueries = 0;
  readonly dnsRcodes = new Map<string, number>();
  readonly httpStatuses = new Map<number, number>();
  latency: LatencyHistogram | undefined;
}

interface Bucket {
  /** Bucket number since the epoch (time / bucketMs); -1 when unused. */
  index: number;
  all: Counters;
  namespaces: Map<string, Counters>;
}

const STEP_POINTS_MAX = 180;
const TOP_PORTS = 10;

/**
 * Metrics of the flows the API relays, for users without Prometheus: flows
 * per verdict, drops per reason, destination ports, DNS responses per rcode
 * and HTTP responses per status with latency percentiles, kept in 5 s
 * buckets for 1 h. Memory is fixed: a ring of buckets, each with at most
 * `maxNamespacesPerBucket` namespaces and `maxPortsPerBucket` ports, and
 * latencies in fixed-size histograms.
 *
 * Flows count in the bucket of their own time (not their arrival), so the
 * backlog replayed when an agent connects fills the past. A flow counts for
 * `all` and for the namespaces of its source and destination. The counts
 * follow Hubble's metrics: every flow but policy verdicts (they repeat a
 * trace flow's first packet) for flows/s, DROPPED flows for drops,
 * forwarded non-reply TCP/UDP flows for ports, L7 DNS requests for queries
 * and responses for rcodes, L7 HTTP responses for status and latency.
 */
export class MetricsTimeline {
  private readonly bucketMs: number;
  private readonly buckets: Bucket[];
  private readonly maxNamespaces: number;
  private readonly maxPorts: number;
  private readonly now: () => number;
  /** `port/protocol` keys of ports 0–65535 by `port * 2 + (UDP ? 1 : 0)`: the same string each time, so the maps hash it once. */
  private readonly portKeys = new Map<number, string>();

  constructor(options: MetricsTimelineOptions = {}) {
    this.bucketMs = options.bucketMs ?? 5000;
    const retentionMs = options.retentionMs ?? 3_600_000;
    // A few buckets beyond the retention, so the oldest step of the longest window is still whole.
    const count = Math.ceil(retentionMs / this.bucketMs) + Math.ceil(retentionMs / this.bucketMs / STEP_POINTS_MAX) + 1;
    this.buckets = Array.from({ length: count }, () => ({ index: -1, all: new Counters(), namespaces: new Map() }));
    this.maxNamespaces = options.maxNamespacesPerBucket ?? 64;
    this.maxPorts = options.maxPortsPerBucket ?? 256;
    this.now = options.now ?? Date.now;
  }

  /** Counts one flow at its time (epoch ms); flows older than the retention or ahead of the clock are left out. */
  add(flow: Flow, timeMs: number): void {
    // A policy verdict repeats its connection's first packet, which the trace flow counts.
    if (isPolicyVerdict(flow)) return;
    const index = Math.floor(timeMs / this.bucketMs);
    const current = Math.floor(this.now() / this.bucketMs);
    if (!Number.isFinite(index) || index > current + 1 || index <= current - this.buckets.length + 1) return;
    const bucket = this.bucketAt(index);
    const port = this.destinationPort(flow);
    count(bucket.all, flow, port, this.maxPorts);
    const source = flow.source?.namespace;
    const destination = flow.destination?.namespace;
    if (source) this.countIn(bucket, source, flow, port);
    if (destination && destination !== source) this.countIn(bucket, destination, flow, port);
  }

  /** The metrics of the last `window` for one namespace, or `all`. */
  summary(window: MetricsWindow, namespace = 'all'): MetricsSummary {
    const windowBuckets = Math.round((METRICS_WINDOWS[window] * 1000) / this.bucketMs);
    const stepBuckets = Math.max(1, Math.ceil(windowBuckets / STEP_POINTS_MAX));
    const current = Math.floor(this.now() / this.bucketMs);
    // The series ends with the last whole step; totals cover the window up to now.
    const seriesEnd = Math.floor(current / stepBuckets) * stepBuckets;
    const seriesStart = seriesEnd - windowBuckets;
    const stepSeconds = (stepBuckets * this.bucketMs) / 1000;

    const perSecond: MetricsSummary['flows']['per_second'] = [];
    for (let step = seriesStart; step < seriesEnd; step += stepBuckets) {
      const verdicts: Record<string, number> = {};
      for (let index = step; index < step + stepBuckets; index++) {
        const counters = this.countersAt(index, namespace);
        if (counters) for (const [verdict, n] of counters.verdicts) verdicts[verdict] = (verdicts[verdict] ?? 0) + n;
      }
      for (const verdict of Object.keys(verdicts)) verdicts[verdict] = round(verdicts[verdict]! / stepSeconds, 3);
      perSecond.push({ time: new Date(step * this.bucketMs).toISOString(), verdicts });
    }

    const total = new Counters();
    for (let index = current - windowBuckets + 1; index <= current; index++) {
      const counters = this.countersAt(index, namespace);
      if (counters) merge(total, counters);
    }
    const latency = total.latency;
    const percentiles = latency && latency.count > 0 ? {
      p50: milliseconds(latency.percentile(0.5)!),
      p90: milliseconds(latency.percentile(0.9)!),
      p99: milliseconds(latency.percentile(0.99)!),
    } : null;
    return {
      window,
      namespace,
      start: new Date((current - windowBuckets + 1) * this.bucketMs).toISOString(),
      end: new Date(this.now()).toISOString(),
      step_seconds: stepSeconds,
      flows: { total: total.flows, by_verdict: Object.fromEntries(total.verdicts), per_second: perSecond },
      drops: {
        total: total.verdicts.get('DROPPED') ?? 0,
        by_reason: ranked(total.dropReasons).map(([reason, flows]) => ({ reason, flows })),
      },
      top_ports: ranked(total.ports).slice(0, TOP_PORTS).map(([key, flows]) => {
        const [port, protocol] = key.split('/');
        return { port: Number(port), protocol: protocol ?? '', flows };
      }),
      dns: {
        queries: total.dnsQueries,
        responses: sumOf(total.dnsRcodes),
        by_rcode: ranked(total.dnsRcodes).map(([rcode, responses]) => ({ rcode, responses })),
      },
      http: {
        responses: sumOf(total.httpStatuses),
        by_status: [...total.httpStatuses].sort((a, b) => a[0] - b[0]).map(([status, responses]) => ({ status, responses })),
        latency_ms: percentiles,
      },
    };
  }

  private bucketAt(index: number): Bucket {
    const bucket = this.buckets[index % this.buckets.length]!;
    if (bucket.index !== index) {
      bucket.index = index;
      bucket.all = new Counters();
      bucket.namespaces = new Map();
    }
    return bucket;
  }

  private countersAt(index: number, namespace: string): Counters | undefined {
    if (index < 0) return undefined;
    const bucket = this.buckets[index % this.buckets.length]!;
    if (bucket.index !== index) return undefined;
    return namespace === 'all' ? bucket.all : bucket.namespaces.get(namespace);
  }

  /** `port/protocol` of a forwarded request, as Hubble's port-distribution counts it. */
  private destinationPort(flow: Flow): string | undefined {
    if ((flow.verdict !== 'FORWARDED' && flow.verdict !== 'REDIRECTED') || flow.is_reply === true) return undefined;
    const l4 = flow.l4;
    const tcp = l4?.TCP?.destination_port;
    const udp = tcp === undefined ? l4?.UDP?.destination_port : undefined;
    if (tcp === undefined && udp === undefined) return undefined;
    const port = tcp ?? udp!;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) return tcp !== undefined ? `${tcp}/TCP` : `${udp}/UDP`;
    const slot = tcp !== undefined ? port * 2 : port * 2 + 1;
    let key = this.portKeys.get(slot);
    if (key === undefined) {
      key = tcp !== undefined ? `${port}/TCP` : `${port}/UDP`;
      this.portKeys.set(slot, key);
    }
    return key;
  }

  private countIn(bucket: Bucket, namespace: string, flow: Flow, port: string | undefined): void {
    let counters = bucket.namespaces.get(namespace);
    if (!counters) {
      if (bucket.namespaces.size >= this.maxNamespaces) return;
      counters = new Counters();
      bucket.namespaces.set(namespace, counters);
    }
    count(counters, flow, port, this.maxPorts);
  }
}

function count(counters: Counters, flow: Flow, port: string | undefined, maxPorts: number): void {
  counters.flows += 1;
  increment(counters.verdicts, flow.verdict, 1);
  if (flow.verdict === 'DROPPED') increment(counters.dropReasons, flow.drop_reason_desc ?? dropReasonName(flow.drop_reason ?? 0), 1);
  if (port && (counters.ports.has(port) || counters.ports.size < maxPorts)) increment(counters.ports, port, 1);
  const l7 = flow.l7;
  if (!l7) return;
  const response = l7.type === 'RESPONSE';
  if (l7.dns) {
    if (response) increment(counters.dnsRcodes, dnsRcodeName(l7.dns.rcode ?? 0), 1);
    else if (l7.type === 'REQUEST' && flow.verdict !== 'DROPPED') counters.dnsQueries += 1;
  } else if (l7.http && response && l7.http.code !== undefined) {
    increment(counters.httpStatuses, l7.http.code, 1);
    if (l7.latency_ns !== undefined) (counters.latency ??= new LatencyHistogram()).add(l7.latency_ns);
  }
}

function merge(into: Counters, from: Counters): void {
  into.flows += from.flows;
  into.dnsQueries += from.dnsQueries;
  for (const [key, n] of from.verdicts) increment(into.verdicts, key, n);
  for (const [key, n] of from.dropReasons) increment(into.dropReasons, key, n);
  for (const [key, n] of from.ports) increment(into.ports, key, n);
  for (const [key, n] of from.dnsRcodes) increment(into.dnsRcodes, key, n);
  for (const [key, n] of from.httpStatuses) increment(into.httpStatuses, key, n);
  if (from.latency) (into.latency ??= new LatencyHistogram()).merge(from.latency);
}

function increment<K>(map: Map<K, number>, key: K, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** Entries by count, largest first; ties by key. */
function ranked(map: Map<string, number>): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function sumOf(map: Map<unknown, number>): number {
  let total = 0;
  for (const n of map.values()) total += n;
  return total;
}

function milliseconds(ns: number): number {
  return round(ns / 1e6, 3);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
