// Latency of `GET /api/v1/flows` with a whitelist of three filters over a
// full ring (2 nodes × 4,095 held flows), against the same request without
// filters, measured in the same run. The real API runs as its own process,
// pinned to one CPU, following two synthetic agents; requests go one at a
// time over one keep-alive connection.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { DEFAULT_RING_CAPACITY, type GetFlowsResponse } from '@tycho/flow';
import type { FlowFilter } from '@tycho/filters';
import { check, measurement, median, pairedRatio, type Benchmark, type BenchmarkResult } from './benchmark.ts';
import { getJson, startApiProcess } from './apiProcess.ts';
import { linkFlow, nodeName, type SyntheticMapShape } from './syntheticFlows.ts';
import { publishByNode, startSyntheticAgents } from './syntheticAgents.ts';

const API_CPU = 1;
const SHAPE: SyntheticMapShape = { cards: 200, links: 1000, namespaces: 20, nodes: 2 };
const HELD_FLOWS = SHAPE.nodes * DEFAULT_RING_CAPACITY;
const ROUNDS = 7;
const REQUESTS_PER_ROUND = 300;
const WARMUP_REQUESTS = 200;
/** Hubble's default answer size when the request names no number: the last 20. */
const EXPECTED_FLOWS = 20;

/** Three filters of the kinds the web app's filter bar makes: a namespace and port, a label and verdict, a workload. */
const WHITELIST: FlowFilter[] = [
  { source_pod: ['bench-ns-03/'], destination_port: ['8080'] },
  { source_label: ['k8s:app=svc-0042'], verdict: ['DROPPED'] },
  { destination_workload: [{ name: 'svc-0150' }] },
];

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const apiFlowsLatency: Benchmark = {
  name: 'apiFlowsLatency',
  summary: 'GET /api/v1/flows p50 latency, whitelist of 3 filters over 2×4,095 held flows vs no filters',
  async run({ log, defer }) {
    const cluster = await startSyntheticAgents([nodeName(0), nodeName(1)]);
    defer(() => cluster.close());
    const startMs = Date.now() - HELD_FLOWS;
    const flows = Array.from({ length: HELD_FLOWS }, (_, i) => linkFlow(i % SHAPE.links, SHAPE, startMs + i, `held-${i}`, 30_000 + Math.floor(i / SHAPE.links)));
    publishByNode(cluster.agents, flows);
    const perNode = cluster.agents.map((agent) => agent.observer.status().num_flows);

    const api = await startApiProcess({ agentFlags: cluster.agents.map((agent) => agent.agentFlag), cpu: API_CPU, log });
    defer(() => api.stop());
    const held = await waitForHeld(api.url, HELD_FLOWS);

    const filteredPath = `/api/v1/flows?whitelist=${encodeURIComponent(JSON.stringify(WHITELIST))}`;
    const plainPath = '/api/v1/flows';
    const connection = new Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => connection.destroy());
    const timed = (path: string) => timedGet(`${api.url}${path}`, connection);

    const filteredAnswer = await getJson<{ flows: GetFlowsResponse[] }>(`${api.url}${filteredPath}`, connection);
    const plainAnswer = await getJson<{ flows: GetFlowsResponse[] }>(`${api.url}${plainPath}`, connection);
    const allMatching = await getJson<{ flows: GetFlowsResponse[] }>(`${api.url}${filteredPath}&number=${HELD_FLOWS}`, connection);

    for (let i = 0; i < WARMUP_REQUESTS; i++) {
      await timed(filteredPath);
      await timed(plainPath);
    }

    const filteredP50: number[] = [];
    const filteredP99: number[] = [];
    const plainP50: number[] = [];
    const plainP99: number[] = [];
    const allFiltered: number[] = [];
    const allPlain: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const filtered: number[] = [];
      const plain: number[] = [];
      for (let i = 0; i < REQUESTS_PER_ROUND; i++) filtered.push(await timed(filteredPath));
      for (let i = 0; i < REQUESTS_PER_ROUND; i++) plain.push(await timed(plainPath));
      filteredP50.push(percentile(filtered, 50));
      filteredP99.push(percentile(filtered, 99));
      plainP50.push(percentile(plain, 50));
      plainP99.push(percentile(plain, 99));
      allFiltered.push(...filtered);
      allPlain.push(...plain);
      log(`round ${round + 1}/${ROUNDS}: filtered p50 ${filteredP50.at(-1)!.toFixed(2)} ms p99 ${filteredP99.at(-1)!.toFixed(2)} ms; unfiltered p50 ${plainP50.at(-1)!.toFixed(2)} ms p99 ${plainP99.at(-1)!.toFixed(2)} ms`);
    }

    const pooled = {
      filtered: { p50: percentile(allFiltered, 50), p99: percentile(allFiltered, 99) },
      unfiltered: { p50: percentile(allPlain, 50), p99: percentile(allPlain, 99) },
      requestsEach: allFiltered.length,
    };
    log(`all ${pooled.requestsEach} requests each: filtered p50 ${pooled.filtered.p50.toFixed(2)} ms p99 ${pooled.filtered.p99.toFixed(2)} ms; unfiltered p50 ${pooled.unfiltered.p50.toFixed(2)} ms p99 ${pooled.unfiltered.p99.toFixed(2)} ms`);

    const result: BenchmarkResult & { details: unknown } = {
      name: 'apiFlowsLatency',
      measured: measurement('3-filter whitelist, p50', 'ms', filteredP50),
      baseline: measurement('no filters, p50', 'ms', plainP50),
      ratio: pairedRatio(filteredP50, plainP50),
      checks: [
        check(perNode.every((n) => n === DEFAULT_RING_CAPACITY), `each agent's ring full (${DEFAULT_RING_CAPACITY})`, perNode.join(', ')),
        check(held === HELD_FLOWS, 'the API holds 2 × 4,095 flows', String(held)),
        check(filteredAnswer.body.flows.length === EXPECTED_FLOWS && plainAnswer.body.flows.length === EXPECTED_FLOWS, 'both requests answer the last 20 flows', `${filteredAnswer.body.flows.length} and ${plainAnswer.body.flows.length}`),
        check(
          allMatching.body.flows.length > EXPECTED_FLOWS && allMatching.body.flows.length < HELD_FLOWS / 10,
          'the whitelist selects some but few of the held flows',
          `${allMatching.body.flows.length} of ${HELD_FLOWS}`,
        ),
      ],
      details: {
        p99: { filtered: measurement('3-filter whitelist, p99', 'ms', filteredP99), unfiltered: measurement('no filters, p99', 'ms', plainP99), ratio: pairedRatio(filteredP99, plainP99) },
        pooled,
        responseBytes: { filtered: filteredAnswer.bytes, unfiltered: plainAnswer.bytes },
        whitelist: WHITELIST,
        apiCpu: API_CPU,
      },
    };
    log(`p99 medians: filtered ${median(filteredP99).toFixed(2)} ms, unfiltered ${median(plainP99).toFixed(2)} ms`);
    return result;
  },
};

async function waitForHeld(url: string, expected: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await getJson<{ flows: GetFlowsResponse[] }>(`${url}/api/v1/flows?number=${expected + 1}`);
    if (body.flows.length >= expected || Date.now() > deadline) return body.flows.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** ms from sending the request to the last byte of a 200 answer (not parsed). */
function timedGet(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    request(url, { agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url} answered ${res.statusCode}`));
        else resolve(performance.now() - started);
      });
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}
