// How long a well-behaved client waits for `GET /api/v1/status` while another
// client sends 5,000 subscribe messages on one `/api/v1/stream` WebSocket
// (each with its own whitelist, as fast as it can write them; a variant adds
// `since`, which replays held flows and builds a map per filter set), against
// the same probe with no such client, in the same run. The real API runs as
// its own process pinned to one CPU, following two synthetic agents with full
// rings (2 × 4,095 held flows). The probe sends one request at a time, 10 ms
// apart, for WINDOW_MS; the flood starts FLOOD_AT_MS into the window.
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { check, measurement, pairedRatio, type Benchmark, type BenchmarkResult } from './benchmark.ts';
import { getAnsweredAt, percentile } from './httpTiming.ts';
import { FULL_RINGS_API_CPU as API_CPU, FULL_RINGS_HELD_FLOWS as HELD_FLOWS, FULL_RINGS_SHAPE as SHAPE, startFullRingsApi } from './fullRingsApi.ts';

const ROUNDS = 5;
const WINDOW_MS = 3000;
const FLOOD_AT_MS = 200;
const PROBE_GAP_MS = 10;
const FLOOD_MESSAGES = 5000;
/** Distinct whitelists the flood cycles through (one per namespace of SHAPE). */
const FLOOD_FILTERS = SHAPE.namespaces;

type Flood = 'none' | 'subscribe' | 'subscribe with since';

interface Window {
  maxMs: number;
  p99Ms: number;
  probes: number;
  /** What the flooding client got: error messages, and its close code (undefined: still open at the end). */
  floodErrors: number;
  floodClose: number | undefined;
}

function floodMessage(i: number, since: boolean): string {
  const namespace = `bench-ns-${String(i % FLOOD_FILTERS).padStart(2, '0')}`;
  return JSON.stringify({ type: 'subscribe', whitelist: [{ source_pod: [`${namespace}/`] }], ...(since ? { since: '5m' } : {}) });
}

/** Sends FLOOD_MESSAGES subscribes on a new stream socket; resolves with what the API answered once it closed the socket or the window ended. */
async function flood(apiUrl: string, since: boolean, untilMs: number): Promise<{ errors: number; close: number | undefined }> {
  const ws = new WebSocket(`${apiUrl.replace(/^http/, 'ws')}/api/v1/stream`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let errors = 0;
  let close: number | undefined;
  ws.on('message', (data) => {
    if ((JSON.parse(data.toString()) as { type: string }).type === 'error') errors++;
  });
  const closed = new Promise<void>((resolve) =>
    ws.once('close', (code) => {
      close = code;
      resolve();
    }),
  );
  ws.on('error', () => {});
  for (let i = 0; i < FLOOD_MESSAGES && ws.readyState === WebSocket.OPEN; i++) ws.send(floodMessage(i, since));
  await Promise.race([closed, sleep(Math.max(0, untilMs - performance.now()))]);
  ws.terminate();
  return { errors, close };
}

async function probeWindow(apiUrl: string, connection: Agent, kind: Flood): Promise<Window> {
  const started = performance.now();
  const endAt = started + WINDOW_MS;
  const flooding = kind === 'none' ? undefined : sleep(FLOOD_AT_MS).then(() => flood(apiUrl, kind === 'subscribe with since', endAt));
  const latencies: number[] = [];
  while (performance.now() < endAt) {
    const sent = performance.now();
    latencies.push((await getAnsweredAt(`${apiUrl}/api/v1/status`, connection)) - sent);
    await sleep(PROBE_GAP_MS);
  }
  const flooded = await flooding;
  return { maxMs: Math.max(...latencies), p99Ms: percentile(latencies, 99), probes: latencies.length, floodErrors: flooded?.errors ?? 0, floodClose: flooded?.close };
}

export const apiStreamAbuse: Benchmark = {
  name: 'apiStreamAbuse',
  summary: 'longest GET /api/v1/status wait while one WebSocket sends 5,000 subscribes (and with since) vs no flood',
  async run({ log, defer }) {
    const { api, held } = await startFullRingsApi({ log, defer });
    const connection = new Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => connection.destroy());
    await probeWindow(api.url, connection, 'none');

    const kinds: Flood[] = ['none', 'subscribe', 'subscribe with since'];
    const windows = new Map<Flood, Window[]>(kinds.map((kind) => [kind, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of kinds) {
        const window = await probeWindow(api.url, connection, kind);
        windows.get(kind)!.push(window);
        log(`round ${round + 1}/${ROUNDS}, flood: ${kind}: longest wait ${window.maxMs.toFixed(1)} ms, p99 ${window.p99Ms.toFixed(1)} ms over ${window.probes} probes; flood got ${window.floodErrors} errors, close ${window.floodClose ?? 'none'}`);
        await sleep(500);
      }
    }

    const maxOf = (kind: Flood) => windows.get(kind)!.map((w) => w.maxMs);
    const p99Of = (kind: Flood) => windows.get(kind)!.map((w) => w.p99Ms);
    const flooded = [...windows.get('subscribe')!, ...windows.get('subscribe with since')!];
    const result: BenchmarkResult & { details: unknown } = {
      name: 'apiStreamAbuse',
      measured: measurement('5,000 subscribes: longest /status wait', 'ms', maxOf('subscribe')),
      baseline: measurement('no flood: longest /status wait', 'ms', maxOf('none')),
      ratio: pairedRatio(maxOf('subscribe'), maxOf('none')),
      variants: [{ measured: measurement('5,000 subscribes with since: longest /status wait', 'ms', maxOf('subscribe with since')), ratio: pairedRatio(maxOf('subscribe with since'), maxOf('none')) }],
      checks: [
        check(held === HELD_FLOWS, 'the API holds 2 × 4,095 flows', String(held)),
        check(flooded.every((w) => w.floodClose === 1008), 'the API closed every flood with 1008', flooded.map((w) => w.floodClose ?? 'open').join(', ')),
        check(flooded.every((w) => w.floodErrors >= 1), 'every flood got an error message', flooded.map((w) => w.floodErrors).join(', ')),
      ],
      details: {
        p99: Object.fromEntries(kinds.map((kind) => [kind, measurement(`${kind}: /status p99`, 'ms', p99Of(kind))])),
        windowMs: WINDOW_MS,
        floodMessages: FLOOD_MESSAGES,
        apiCpu: API_CPU,
      },
    };
    return result;
  },
};
