// `GET /api/v1/flows?number=1000` at 200 requests/s (open loop: each request
// is sent at its scheduled time, whatever the earlier ones are doing, and
// timed from then), against the same request one at a time, in the same run;
// and at 200/s again while the agents send 2,000 new flows/s, as in a live
// cluster, where no two answers are alike. The real API runs as its own
// process pinned to one CPU, following two synthetic agents with full rings
// (2 × 4,095 held flows). The runner, which reads the 200 MB/s of answers,
// runs at the API's nice level meanwhile, so that the other tenants of a
// shared machine starve neither. `TYCHO_BENCH_API_NODE_FLAGS` adds node flags to the
// API's (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it).
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { getPriority, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GetFlowsResponse } from '@tycho/flow';
import { check, measurement, pairedRatio, type Benchmark, type BenchmarkResult } from './benchmark.ts';
import { API_NICE, getJson } from './apiProcess.ts';
import { getAnsweredAt, percentile } from './httpTiming.ts';
import { FULL_RINGS_API_CPU as API_CPU, FULL_RINGS_HELD_FLOWS as HELD_FLOWS, FULL_RINGS_SHAPE as SHAPE, startFullRingsApi } from './fullRingsApi.ts';
import { publishByNode, type SyntheticAgent } from './syntheticAgents.ts';
import { linkFlow } from './syntheticFlows.ts';

const NUMBER = 1000;
const RATE_PER_SECOND = 200;
const LOAD_SECONDS = 3;
const SEQUENTIAL_REQUESTS = 100;
const ROUNDS = 5;
const PATH = `/api/v1/flows?number=${NUMBER}`;
/** New flows per second (both nodes together) while the live rounds run, published every PUBLISH_EVERY_MS. */
const LIVE_FLOWS_PER_SECOND = 2000;
const PUBLISH_EVERY_MS = 10;
const LIVE_UUID_PREFIX = 'live-';
/**
 * Idle pooled connections are closed after this long, before the API's
 * keep-alive timeout (Node's 5 s) closes them: a runner starved for CPU on a
 * busy machine would otherwise send on a socket whose FIN it has not read yet
 * ("socket hang up"); the pool hands out its newest sockets first, so the
 * others sit idle.
 */
const IDLE_SOCKET_TIMEOUT_MS = 4000;

/** Publishes LIVE_FLOWS_PER_SECOND new flows (timed now) into the agents until the returned function is called; it returns how many. */
function publishLiveFlows(agents: readonly SyntheticAgent[], firstIndex: number): () => number {
  let index = firstIndex;
  const perTick = (LIVE_FLOWS_PER_SECOND * PUBLISH_EVERY_MS) / 1000;
  const timer = setInterval(() => {
    const nowMs = Date.now();
    const flows = Array.from({ length: perTick }, (_, i) => linkFlow((index + i) % SHAPE.links, SHAPE, nowMs, `${LIVE_UUID_PREFIX}${index + i}`));
    index += publishByNode(agents, flows);
  }, PUBLISH_EVERY_MS);
  return () => {
    clearInterval(timer);
    return index - firstIndex;
  };
}

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

/** One open-loop round's figures. */
interface LoadRound {
  p50: number;
  p99: number;
  answersPerSecond: number;
  seconds: number;
  apiCpuMsPerAnswer: number;
  runnerCpuMsPerAnswer: number;
  apiWaitMsPerSecond: number;
  runnerWaitMsPerSecond: number;
}

/** How long a process's main thread has waited on a run queue so far (`/proc/<pid>/schedstat`, second field, ns), in ms. */
function runQueueWaitMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

export const apiFlowsLoad: Benchmark = {
  name: 'apiFlowsLoad',
  summary: 'GET /api/v1/flows?number=1000 p99 at 200 requests/s (and with 2,000 new flows/s) vs one at a time, over 2×4,095 held flows',
  async run({ log, defer }) {
    const runnerNice = getPriority();
    // The main thread's nice level (Linux sets it per thread), which reads every answer.
    setPriority(API_NICE);
    defer(() => setPriority(runnerNice));
    const nodeFlags = process.env.TYCHO_BENCH_API_NODE_FLAGS?.split(/\s+/).filter((flag) => flag !== '');
    const { api, cluster, held } = await startFullRingsApi({ log, defer, ...(nodeFlags ? { nodeFlags } : {}) });
    const answer = await getJson<{ flows: GetFlowsResponse[] }>(`${api.url}${PATH}`);
    const warmUp = new Agent({ keepAlive: true, maxSockets: 1 });
    await oneAtATime(`${api.url}${PATH}`, warmUp).finally(() => warmUp.destroy());

    /**
     * Open-loop load on connections of their own (a pool idle past the server's keep-alive timeout would meet
     * closed sockets), with the CPU the API and the runner used per answer, and how long each one's main thread
     * waited for a CPU per second (a busy machine's share of a miss).
     */
    const loadRound = async (): Promise<LoadRound> => {
      const pool = new Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_TIMEOUT_MS });
      const cpuBefore = api.cpuSeconds();
      const runnerCpuBefore = process.cpuUsage();
      const apiWaitBefore = runQueueWaitMs(api.pid);
      const runnerWaitBefore = runQueueWaitMs(process.pid);
      const { latencies, seconds } = await openLoop(`${api.url}${PATH}`, pool).finally(() => pool.destroy());
      const runnerCpu = process.cpuUsage(runnerCpuBefore);
      return {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        answersPerSecond: latencies.length / seconds,
        seconds,
        apiCpuMsPerAnswer: ((api.cpuSeconds() - cpuBefore) * 1000) / latencies.length,
        runnerCpuMsPerAnswer: (runnerCpu.user + runnerCpu.system) / 1000 / latencies.length,
        apiWaitMsPerSecond: (runQueueWaitMs(api.pid) - apiWaitBefore) / seconds,
        runnerWaitMsPerSecond: (runQueueWaitMs(process.pid) - runnerWaitBefore) / seconds,
      };
    };
    const describeRound = (r: LoadRound) =>
      `p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms, ${r.answersPerSecond.toFixed(1)} answers/s, CPU per answer API ${r.apiCpuMsPerAnswer.toFixed(2)} ms runner ${r.runnerCpuMsPerAnswer.toFixed(2)} ms, ` +
      `waited for a CPU API ${r.apiWaitMsPerSecond.toFixed(0)} ms/s runner ${r.runnerWaitMsPerSecond.toFixed(0)} ms/s`;
    const loadedRounds: LoadRound[] = [];
    const liveRounds: LoadRound[] = [];
    const sequentialP99: number[] = [];
    const sequentialP50: number[] = [];
    let liveFlows = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // A connection of its own each round too: the load rounds keep it idle past the server's keep-alive timeout.
      const single = new Agent({ keepAlive: true, maxSockets: 1 });
      const sequential = await oneAtATime(`${api.url}${PATH}`, single).finally(() => single.destroy());
      const loaded = await loadRound();
      await sleep(500);
      const stopPublishing = publishLiveFlows(cluster.agents, liveFlows);
      const live = await loadRound().finally(() => (liveFlows += stopPublishing()));
      sequentialP50.push(percentile(sequential, 50));
      sequentialP99.push(percentile(sequential, 99));
      loadedRounds.push(loaded);
      liveRounds.push(live);
      log(`round ${round + 1}/${ROUNDS}: one at a time p50 ${sequentialP50.at(-1)!.toFixed(2)} ms p99 ${sequentialP99.at(-1)!.toFixed(2)} ms`);
      log(`  at ${RATE_PER_SECOND}/s: ${describeRound(loaded)}`);
      log(`  live: ${describeRound(live)}`);
      await sleep(500);
    }
    const afterLive = await getJson<{ flows: GetFlowsResponse[] }>(`${api.url}${PATH}`);
    const liveAnswered = afterLive.body.flows.filter((response) => response.flow?.uuid.startsWith(LIVE_UUID_PREFIX)).length;

    const of = (rounds: LoadRound[], figure: keyof LoadRound) => rounds.map((r) => r[figure]);
    const result: BenchmarkResult & { details: unknown } = {
      name: 'apiFlowsLoad',
      measured: measurement(`${RATE_PER_SECOND} requests/s, p99`, 'ms', of(loadedRounds, 'p99')),
      baseline: measurement('one at a time, p99', 'ms', sequentialP99),
      ratio: pairedRatio(of(loadedRounds, 'p99'), sequentialP99),
      variants: [
        { measured: measurement(`${RATE_PER_SECOND} requests/s, p50`, 'ms', of(loadedRounds, 'p50')), baseline: measurement('one at a time, p50', 'ms', sequentialP50), ratio: pairedRatio(of(loadedRounds, 'p50'), sequentialP50) },
        { measured: measurement(`${RATE_PER_SECOND} requests/s with ${LIVE_FLOWS_PER_SECOND.toLocaleString('en-US')} new flows/s, p99`, 'ms', of(liveRounds, 'p99')), ratio: pairedRatio(of(liveRounds, 'p99'), sequentialP99) },
      ],
      checks: [
        check(held === HELD_FLOWS, 'the API holds 2 × 4,095 flows', String(held)),
        check(answer.body.flows.length === NUMBER, `an answer holds ${NUMBER} flows`, String(answer.body.flows.length)),
        check(liveAnswered === NUMBER, `after the live rounds (${liveFlows} flows published), the last ${NUMBER} answered are all live ones`, String(liveAnswered)),
      ],
      details: {
        loadedRounds,
        liveRounds,
        liveFlowsPerSecond: liveFlows / sum(of(liveRounds, 'seconds')),
        responseBytes: answer.bytes,
        apiCpu: API_CPU,
      },
    };
    return result;
  },
};
