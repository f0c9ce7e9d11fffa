import type { ApiMetrics } from '../data/apiSchemas.ts';

/** A `GET /api/v1/metrics` answer for the web app's tests: 1 minute of lab-like traffic. */
export function metricsAnswer(extra: Partial<ApiMetrics> = {}): ApiMetrics {
  const start = Date.parse('2024-01-01T12:00:00Z');
  return {
    window: '1m',
    namespace: 'default',
    start: new Date(start).toISOString(),
    end: new Date(start + 60_000).toISOString(),
    step_seconds: 5,
    flows: {
      total: 66,
      by_verdict: { FORWARDED: 60, DROPPED: 6 },
      per_second: Array.from({ length: 12 }, (_, i) => ({ time: new Date(start + i * 5000).toISOString(), verdicts: { FORWARDED: 1 + (i % 3) * 0.2, ...(i % 4 === 0 ? { DROPPED: 0.4 } : {}) } })),
    },
    drops: { total: 6, by_reason: [{ reason: 'POLICY_DENIED', flows: 6 }] },
    top_ports: [{ port: 8080, protocol: 'TCP', flows: 40 }, { port: 53, protocol: 'UDP', flows: 12 }],
    dns: { queries: 12, responses: 12, by_rcode: [{ rcode: 'NOERROR', responses: 11 }, { rcode: 'NXDOMAIN', responses: 1 }] },
    http: { responses: 20, by_status: [{ status: 200, responses: 19 }, { status: 503, responses: 1 }], latency_ms: { p50: 1.2, p90: 3.4, p99: 12.5 } },
    ...extra,
  };
}
