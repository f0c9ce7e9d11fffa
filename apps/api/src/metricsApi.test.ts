import { afterEach, describe, expect, it } from 'vitest';
import type { MetricsSummary } from './metricsTimeline.ts';
import { flowAt, startTestCluster, waitFor, type TestCluster } from './testAgents.ts';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('GET /api/v1/metrics', () => {
  it('summarises the flows the relay receives from the agents', async () => {
    cluster = await startTestCluster(['node-1']);
    const time = new Date(Date.now() - 1000).toISOString();
    cluster.agents[0]?.publish(
      flowAt('node-1', 1, { time }),
      flowAt('node-1', 2, { time, verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED' }),
      flowAt('node-1', 3, { time, Type: 'L7', is_reply: true, l7: { type: 'RESPONSE', latency_ns: 2_000_000, http: { code: 200, method: 'GET', url: 'http://echo-a:8080/public' } } }),
    );
    const c = cluster;
    const summary = await waitFor(async () => {
      const response = await c.get('/api/v1/metrics?window=1m&namespace=default');
      const body = response.body as MetricsSummary;
      return response.status === 200 && body.flows.total === 3 ? body : undefined;
    }, 'three flows counted');
    expect(summary.window).toBe('1m');
    expect(summary.namespace).toBe('default');
    expect(summary.flows.by_verdict).toEqual({ FORWARDED: 2, DROPPED: 1 });
    expect(summary.drops.by_reason).toEqual([{ reason: 'POLICY_DENIED', flows: 1 }]);
    expect(summary.http.by_status).toEqual([{ status: 200, responses: 1 }]);
    expect(summary.http.latency_ms?.p50).toBeGreaterThan(1.9);
    expect(summary.http.latency_ms?.p50).toBeLessThan(2.1);
  });

  it('answers 400 naming the parameter for a bad window, namespace or unknown parameter', async () => {
    cluster = await startTestCluster(['node-1']);
    for (const [query, parameter] of [['window=7m', 'window'], ['namespace=NOT%20OK', 'namespace'], ['since=5m', 'since']] as const) {
      const response = await cluster.get(`/api/v1/metrics?${query}`);
      expect(response.status).toBe(400);
      expect((response.body as { error: string }).error).toMatch(new RegExp(`^${parameter}: `));
    }
  });
});
