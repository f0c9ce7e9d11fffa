// `GET /api/v1/flows?number=1000` at 200 requests/s (open loop: each request
// is sent at its scheduled time, whatever the earlier ones are doing, and
// timed from then), against the same request one at a time, in the same run.
// The real API runs as its own process pinned to one CPU, following two
// synthetic agents with full rings (2 × 4,095 held flows).
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GetFlowsResponse } from '@tycho/flow';
import { check, measurement, pairedRatio, type Benchmark, type BenchmarkResult } from './benchmark.ts';
import { getJson } from './apiProcess.ts';
import { getAnsweredAt, percentile } from './httpTiming.ts';
import { FULL_RINGS_API_CPU as API_CPU, FULL_RINGS_HELD_FLOWS as HELD_FLOWS, startFullRingsApi } from './fullRingsApi.ts';

const NUMBER = 1000;
const RATE_PER_SECOND = 200;
const LOAD_SECONDS = 3;
const SEQUENTIAL_REQUESTS = 100;
const ROUNDS = 5;
const PATH = `/api/v1/flows?number=${NUMBER}`;

/** Latencies of RATE_PER_SECOND × LOAD_SECONDS requests sent on schedule; and how long until the last answer. */
async function openLoop(url: string, connections: Agent): Promise<{ latencies: number[]; seconds: number }> {
  const count = RATE_PER_SECOND * LOAD_SECONDS;
  const started = performance.now();
  const answers: Promise<number>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / RATE_PER_SECOND;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    answers.push(getAnsweredAt(url, connections).then((at) => at - due));
  }
  const latencies = await Promise.all(answers);
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

async function oneAtATime(url: string, connection: Agent): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < SEQUENTIAL_REQUESTS; i++) {
    const sent = performance.now();
    latencies.push((await getAnsweredAt(url, connection)) - sent);
  }
  return latencies;
}

export const apiFlowsLoad: Benchmark = {
  name: 'apiFlowsLoad',
  summary: 'GET /api/v1/flows?number=1000 p99 at 200 requests/s vs one at a time, over 2×4,095 held flows',
  async run({ log, defer }) {
    const { api, held } = await startFullRingsApi({ log, defer });
    const answer = await getJson<{ flows: GetFlowsResponse[] }>(`${api.url}${PATH}`);
    const single = new Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => single.destroy());
    await oneAtATime(`${api.url}${PATH}`, single);

    const loadedP99: number[] = [];
    const loadedP50: number[] = [];
    const achieved: number[] = [];
    const sequentialP99: number[] = [];
    const sequentialP50: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const sequential = await oneAtATime(`${api.url}${PATH}`, single);
      // Connections of their own each round: a pool idle past the server's keep-alive timeout would meet closed sockets.
      const pool = new Agent({ keepAlive: true, maxSockets: 64 });
      const loaded = await openLoop(`${api.url}${PATH}`, pool).finally(() => pool.destroy());
      sequentialP50.push(percentile(sequential, 50));
      sequentialP99.push(percentile(sequential, 99));
      loadedP50.push(percentile(loaded.latencies, 50));
      loadedP99.push(percentile(loaded.latencies, 99));
      achieved.push(loaded.latencies.length / loaded.seconds);
      log(`round ${round + 1}/${ROUNDS}: one at a time p50 ${sequentialP50.at(-1)!.toFixed(2)} ms p99 ${sequentialP99.at(-1)!.toFixed(2)} ms; at ${RATE_PER_SECOND}/s p50 ${loadedP50.at(-1)!.toFixed(2)} ms p99 ${loadedP99.at(-1)!.toFixed(2)} ms, ${achieved.at(-1)!.toFixed(1)} answers/s`);
      await sleep(500);
    }

    const result: BenchmarkResult & { details: unknown } = {
      name: 'apiFlowsLoad',
      measured: measurement(`${RATE_PER_SECOND} requests/s, p99`, 'ms', loadedP99),
      baseline: measurement('one at a time, p99', 'ms', sequentialP99),
      ratio: pairedRatio(loadedP99, sequentialP99),
      variants: [{ measured: measurement(`${RATE_PER_SECOND} requests/s, p50`, 'ms', loadedP50), baseline: measurement('one at a time, p50', 'ms', sequentialP50), ratio: pairedRatio(loadedP50, sequentialP50) }],
      checks: [
        check(held === HELD_FLOWS, 'the API holds 2 × 4,095 flows', String(held)),
        check(answer.body.flows.length === NUMBER, `an answer holds ${NUMBER} flows`, String(answer.body.flows.length)),
      ],
      details: { achievedAnswersPerSecond: measurement('answers/s at the offered rate', 'answers/s', achieved), responseBytes: answer.bytes, apiCpu: API_CPU },
    };
    return result;
  },
};
