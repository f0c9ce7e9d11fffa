import { describe, expect, it } from 'vitest';
import type { Flow } from '@tycho/flow';
import { dnsRcodeName, MetricsTimeline } from './metricsTimeline.ts';
import { flowAt } from './testAgents.ts';

/** The clock stands 2 s into a bucket, so the current bucket is not a whole step yet. */
const NOW = Date.UTC(2024, 0, 1, 12, 0, 2);

function timeline(): MetricsTimeline {
  return new MetricsTimeline({ now: () => NOW });
}

/** A flow `secondsAgo` before NOW; `overrides` as in flowAt. */
function flowAgo(secondsAgo: number, overrides: Partial<Flow> = {}): [Flow, number] {
  const timeMs = NOW - secondsAgo * 1000;
  return [flowAt('node-1', 0, { time: new Date(timeMs).toISOString(), ...overrides }), timeMs];
}

function addAll(metrics: MetricsTimeline, ...flows: [Flow, number][]): void {
  for (const [flow, timeMs] of flows) metrics.add(flow, timeMs);
}

const dnsResponse = (rcode: number): Partial<Flow> => ({ Type: 'L7', is_reply: true, l4: { UDP: { source_port: 53, destination_port: 50000 } }, l7: { type: 'RESPONSE', dns: { query: 'echo-a.default.svc.cluster.local.', rcode } } });
const dnsQuery: Partial<Flow> = { Type: 'L7', l4: { UDP: { source_port: 50000, destination_port: 53 } }, l7: { type: 'REQUEST', dns: { query: 'echo-a.default.svc.cluster.local.' } } };
const httpResponse = (code: number, latencyMs?: number): Partial<Flow> => ({
  Type: 'L7',
  is_reply: true,
  l7: { type: 'RESPONSE', ...(latencyMs !== undefined ? { latency_ns: latencyMs * 1e6 } : {}), http: { code, method: 'GET', url: 'http://echo-a:8080/public' } },
});

describe('MetricsTimeline', () => {
  it('counts flows per verdict and turns each whole 5 s step into flows/s', () => {
    const metrics = timeline();
    addAll(metrics, flowAgo(3), flowAgo(4), flowAgo(5, { verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED' }));
    const summary = metrics.summary('1m');
    expect(summary.flows.total).toBe(3);
    expect(summary.flows.by_verdict).toEqual({ FORWARDED: 2, DROPPED: 1 });
    expect(summary.step_seconds).toBe(5);
    expect(summary.flows.per_second).toHaveLength(12);
    expect(summary.flows.per_second.at(-1)).toEqual({ time: '2024-01-01T11:59:55.000Z', verdicts: { FORWARDED: 0.4, DROPPED: 0.2 } });
    expect(summary.flows.per_second[0]?.verdicts).toEqual({});
  });

  it('leaves the current, unfinished step out of the series but counts it in the totals', () => {
    const metrics = timeline();
    addAll(metrics, flowAgo(1));
    const summary = metrics.summary('1m');
    expect(summary.flows.total).toBe(1);
    expect(summary.flows.per_second.every((point) => Object.keys(point.verdicts).length === 0)).toBe(true);
  });

  it('counts only the flows inside the chosen window', () => {
    const metrics = timeline();
    addAll(metrics, flowAgo(30), flowAgo(200), flowAgo(600), flowAgo(1800));
    expect(metrics.summary('1m').flows.total).toBe(1);
    expect(metrics.summary('5m').flows.total).toBe(2);
    expect(metrics.summary('15m').flows.total).toBe(3);
    expect(metrics.summary('1h').flows.total).toBe(4);
  });

  it('draws the hour in 180 steps of 20 s', () => {
    const summary = timeline().summary('1h');
    expect(summary.step_seconds).toBe(20);
    expect(summary.flows.per_second).toHaveLength(180);
  });

  it('forgets flows older than an hour and ignores flows from the future', () => {
    const metrics = timeline();
    addAll(metrics, flowAgo(3700), flowAgo(-60));
    expect(metrics.summary('1h').flows.total).toBe(0);
  });

  it('reuses a bucket of the ring for a newer time instead of adding to the old counts', () => {
    let now = NOW;
    const metrics = new MetricsTimeline({ now: () => now });
    metrics.add(...flowAgo(3));
    now += 3_605_000;
    metrics.add(flowAt('node-1', 0), now - 3000);
    expect(metrics.summary('1h').flows.total).toBe(1);
  });

  it('counts drops by reason, largest first', () => {
    const metrics = timeline();
    const drop = (reason: string) => flowAgo(10, { verdict: 'DROPPED', drop_reason_desc: reason });
    addAll(metrics, drop('POLICY_DENIED'), drop('POLICY_DENIED'), drop('SERVICE_BACKEND_NOT_FOUND'), flowAgo(10, { verdict: 'DROPPED', drop_reason: 133 }));
    expect(metrics.summary('1m').drops).toEqual({
      total: 4,
      by_reason: [{ reason: 'POLICY_DENIED', flows: 3 }, { reason: 'SERVICE_BACKEND_NOT_FOUND', flows: 1 }],
    });
  });

  it('ranks destination ports of forwarded requests, leaving out replies and drops', () => {
    const metrics = timeline();
    addAll(
      metrics,
      flowAgo(10), flowAgo(10), flowAgo(10, dnsQuery),
      flowAgo(10, { is_reply: true }),
      flowAgo(10, { verdict: 'DROPPED', l4: { TCP: { destination_port: 9999 } } }),
    );
    expect(metrics.summary('1m').top_ports).toEqual([{ port: 8080, protocol: 'TCP', flows: 2 }, { port: 53, protocol: 'UDP', flows: 1 }]);
  });

  it('counts the same port number of TCP and UDP apart, in all and in each namespace', () => {
    const metrics = timeline();
    addAll(metrics, flowAgo(10, { l4: { UDP: { source_port: 40000, destination_port: 8080 } } }), flowAgo(10), flowAgo(10), flowAgo(10, { l4: { TCP: { destination_port: 80 } } }));
    const expected = [{ port: 8080, protocol: 'TCP', flows: 2 }, { port: 80, protocol: 'TCP', flows: 1 }, { port: 8080, protocol: 'UDP', flows: 1 }];
    expect(metrics.summary('1m').top_ports).toEqual(expected);
    const namespace = flowAgo(10)[0].source?.namespace ?? '';
    expect(metrics.summary('1m', namespace).top_ports).toEqual(expected);
  });

  it('keeps at most maxPortsPerBucket distinct ports in a bucket', () => {
    const metrics = new MetricsTimeline({ now: () => NOW, maxPortsPerBucket: 2 });
    for (const port of [1000, 2000, 3000, 1000]) metrics.add(...flowAgo(10, { l4: { TCP: { destination_port: port } } }));
    expect(metrics.summary('1m').top_ports.map((p) => p.port)).toEqual([1000, 2000]);
  });

  it('counts DNS queries, and responses by rcode name', () => {
    const metrics = timeline();
    addAll(metrics, flowAgo(10, dnsQuery), flowAgo(10, dnsQuery), flowAgo(10, dnsResponse(0)), flowAgo(10, dnsResponse(3)), flowAgo(10, dnsResponse(0)));
    expect(metrics.summary('1m').dns).toEqual({
      queries: 2,
      responses: 3,
      by_rcode: [{ rcode: 'NOERROR', responses: 2 }, { rcode: 'NXDOMAIN', responses: 1 }],
    });
  });

  it('names DNS rcodes as dig does', () => {
    expect([0, 2, 3, 5, 42].map(dnsRcodeName)).toEqual(['NOERROR', 'SERVFAIL', 'NXDOMAIN', 'REFUSED', 'RCODE42']);
  });

  it('counts HTTP responses by status with latency percentiles, and none without latencies', () => {
    const metrics = timeline();
    expect(metrics.summary('1m').http).toEqual({ responses: 0, by_status: [], latency_ms: null });
    for (let ms = 1; ms <= 100; ms++) metrics.add(...flowAgo(10, httpResponse(ms <= 90 ? 200 : 503, ms)));
    metrics.add(...flowAgo(10, { Type: 'L7', l7: { type: 'REQUEST', http: { method: 'GET', url: '/' } } }));
    const { http } = metrics.summary('1m');
    expect(http.responses).toBe(100);
    expect(http.by_status).toEqual([{ status: 200, responses: 90 }, { status: 503, responses: 10 }]);
    expect(Math.abs(http.latency_ms!.p50 - 50) / 50).toBeLessThan(0.05);
    expect(Math.abs(http.latency_ms!.p90 - 90) / 90).toBeLessThan(0.05);
    expect(Math.abs(http.latency_ms!.p99 - 99) / 99).toBeLessThan(0.05);
  });

  it('shows a namespace the flows whose source or destination is in it', () => {
    const metrics = timeline();
    const other = { identity: 500, namespace: 'shop', labels: [], pod_name: 'cart-1' };
    addAll(metrics, flowAgo(10), flowAgo(10, { source: other }), flowAgo(10, { source: other, destination: other }));
    expect(metrics.summary('1m', 'default').flows.total).toBe(2);
    expect(metrics.summary('1m', 'shop').flows.total).toBe(2);
    expect(metrics.summary('1m', 'nowhere').flows.total).toBe(0);
    expect(metrics.summary('1m', 'all').flows.total).toBe(3);
  });

  it('counts flows of namespaces beyond maxNamespacesPerBucket in all only', () => {
    const metrics = new MetricsTimeline({ now: () => NOW, maxNamespacesPerBucket: 1 });
    const other = { identity: 500, namespace: 'shop', labels: [] };
    addAll(metrics, flowAgo(10), flowAgo(10, { source: other, destination: other }));
    expect(metrics.summary('1m', 'shop').flows.total).toBe(0);
    expect(metrics.summary('1m', 'all').flows.total).toBe(2);
  });
});

describe('MetricsTimeline and policy verdicts', () => {
  it('does not count a policy-verdict flow: flows, verdicts and ports count its connection once', () => {
    const metrics = timeline();
    const verdict: Partial<Flow> = { event_type: { type: 5, sub_type: 2 }, traffic_direction: 'EGRESS', policy_match_type: 2 };
    addAll(metrics, flowAgo(3), flowAgo(3, verdict));
    const summary = metrics.summary('1m');
    expect(summary.flows.total).toBe(1);
    expect(summary.flows.by_verdict).toEqual({ FORWARDED: 1 });
  });
});
