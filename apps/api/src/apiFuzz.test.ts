// Fuzz test of the API's two ports of entry, REST and the /api/v1/stream WebSocket: for every
// generated input the answer is a success or a clear error naming the parameter, and the API
// process (the real main.ts, spawned, against real agents in this process) still answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { parse as parseQuery } from 'node:querystring';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Flow } from '@tycho/flow';
import { createCiliumCrds, startTestApiServer, type TestApiServer } from '@tycho/kube/labApiServer.fixture';
import {
  abbreviated,
  flowFilterListJson,
  fuzzParameters,
  fuzzTimeoutMs,
  hostileJsonValue,
  hostileString,
  hostileTime,
  longString,
  notJson,
  PROTOTYPE_KEYS,
  STACK_FRAME,
  unclearErrorReason,
  withDisplay,
} from '@tycho/fuzz';
import { flowAt, testAgent, waitFor, type TestAgent } from './testAgents.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const apiMain = fileURLToPath(new URL('./main.ts', import.meta.url));
/** An answer slower than this is a stalled process (the inputs are small and the rings hold a few flows). */
const STALL_MS = 10_000;
/** Node's HTTP parser refuses a request line over its 16 KiB header limit with 431 before the app sees it. */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Flows the filters run against: TCP between pods, and L7 HTTP and DNS whose
 * path and query are long runs of `a` ending in `!`, the input on which a
 * backtracking regular expression such as `(a+)+$` takes exponential time.
 */
const RUN_OF_A = `${'a'.repeat(40)}!`;
function heldFlows(node: string): Flow[] {
  return [
    flowAt(node, 1),
    flowAt(node, 2, { uuid: `${node}-http`, Type: 'L7', l7: { type: 'REQUEST', http: { method: 'GET', url: `http://echo-a:8080/${RUN_OF_A}`, protocol: 'HTTP/1.1' } } }),
    flowAt(node, 3, { uuid: `${node}-dns`, Type: 'L7', l4: { UDP: { source_port: 50000, destination_port: 53 } }, l7: { type: 'RESPONSE', dns: { query: `${RUN_OF_A}.example.com.`, rcode: 0 } } }),
    flowAt(node, 4, { uuid: `${node}-drop`, verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', event_type: { type: 1, sub_type: 133 } }),
  ];
}

interface SpawnedApi {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

let dir: string;
let agents: TestAgent[] = [];
/** Assigned by ensureApiRunning before any input is sent. */
let api: SpawnedApi;

/** Starts the real API process (apps/api/src/main.ts) on a free loopback port. */
async function spawnApi(socketDir: string, kubeconfig: string, webDir: string): Promise<SpawnedApi> {
  const child = spawn(process.execPath, ['--import', 'tsx', apiMain, '--port', '0', '--host', '127.0.0.1', '--socket-dir', socketDir, '--kubeconfig', kubeconfig, '--web-dir', webDir], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const port = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}: ${stderr}`);
    return /listening on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
  }, 'the API to listen', 60_000);
  apiLogs.push(() => stderr);
  return { child, url: `http://127.0.0.1:${port}`, stderr: () => stderr };
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** The status of an `Answer` when the server reset the connection instead of answering. */
const RESET = -1;

function get(path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { agent: false, timeout: STALL_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', text }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to GET ${path.slice(0, 200)} within ${STALL_MS} ms: the API stalled`)));
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve({ status: RESET, contentType: '', text: err.message }) : reject(err)));
    req.end();
  });
}

/** The API process is running and answers /healthz. */
async function expectApiAlive(): Promise<void> {
  expect(api.child.exitCode, `the API exited; it logged:\n${abbreviated(api.stderr().slice(-3_000), 3_000)}`).toBeNull();
  const health = await get('/healthz');
  expect(health.status).toBe(200);
  expect(JSON.parse(health.text)).toEqual({ status: 'ok' });
}

let kubeApi: TestApiServer | undefined;

/** The API's log, from every process started for the fuzz tests. */
const apiLogs: (() => string)[] = [];

/** Starts the API, or starts it again when an earlier input ended it, so that each input (and each shrink of it) meets a live API. */
async function ensureApiRunning(): Promise<void> {
  if (api?.child.exitCode === null && api.child.signalCode === null) return;
  api = await spawnApi(join(dir, 'run'), join(dir, 'kubeconfig'), join(dir, 'web'));
  await waitFor(async () => {
    const answer = await get('/api/v1/flows?since=2024-01-01T00:00:00Z');
    return answer.status === 200 && (JSON.parse(answer.text) as { flows: unknown[] }).flows.length === 8;
  }, 'the API to hold both agents’ flows', 60_000);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-api-fuzz-'));
  mkdirSync(join(dir, 'run'));
  // The Kubernetes API the API process reads namespaces, pods and policies from: the lab's double.
  kubeApi = await startTestApiServer();
  createCiliumCrds(kubeApi.store);
  writeFileSync(join(dir, 'kubeconfig'), (await kubeApi.kubeConfig()).exportConfig());
  agents = ['node-1', 'node-2'].map((node) => testAgent(join(dir, 'run'), node));
  for (const agent of agents) {
    await agent.start();
    agent.publish(...heldFlows(agent.node));
  }
  await ensureApiRunning();
});

afterAll(async () => {
  await kubeApi?.close();
  if (api?.child.exitCode === null) {
    const exited = new Promise((resolve) => api.child.once('exit', resolve));
    api.child.kill('SIGTERM');
    await exited;
  }
  for (const agent of agents) await agent.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Percent-encodes UTF-8 (lone surrogates become U+FFFD, as a browser sends them), keeping `[` and `]` raw so deep JSON fits the URL. */
function encodeQueryPart(text: string): string {
  return encodeURIComponent(text.replace(/\p{Surrogate}/gu, '\ufffd')).replace(/%5B/g, '[').replace(/%5D/g, ']');
}

const namespaceValue = fc.oneof(fc.constantFrom('default', 'kube-system', 'all', 'ALL', 'Default', '-a', 'a-', 'a.b', 'a_b', ''), longString(64, 9_000), hostileString);
const numberValue = fc.oneof(fc.constantFrom('1', '20', '65535', '65536', '0', '-1', '1e3', '1.5', ' 1', '0x10', '99999999999999999999', `1${'0'.repeat(400)}`), fc.nat().map(String), hostileString);
const booleanValue = fc.oneof(fc.constantFrom('true', 'false', 'True', '1', 'yes', ''), hostileString);
const windowValue = fc.oneof(fc.constantFrom('1m', '5m', '15m', '1h', '6h', '0m', '1000000h'), hostileTime);
/** Filters whose JSON, nested up to 7,000 levels of raw brackets, still fits Node's header limit. */
const filterListValue = flowFilterListJson({ min: 1_000, max: 7_000 });

type Param = readonly [key: string, value: string];

/** Known parameters with values for them, mixed with unknown and prototype keys; a parameter may repeat. */
function params(known: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<Param[]> {
  const param: fc.Arbitrary<Param> = fc.oneof(
    { arbitrary: fc.oneof(...Object.entries(known).map(([key, value]) => value.map((text): Param => [key, text]))), weight: 8 },
    { arbitrary: fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'last', 'node', 'namespace[]', 'whitelist[0]', 'a.b'), hostileString), hostileString).map((pair): Param => pair), weight: 1 },
  );
  return fc
    .array(param, { maxLength: 4 })
    .chain((list) => (list.length > 0 ? fc.oneof({ arbitrary: fc.constant(list), weight: 5 }, fc.constant<Param[]>([...list, list[0]!])) : fc.constant(list)));
}

interface RestRequest {
  path: string;
  params: Param[];
  /** Raw text appended to the query: malformed percent escapes, empty pairs. */
  raw: string;
}

const rawSuffix = fc.constantFrom('', '', '', '&', '&&=&', '%', '%ZZ', '%E0%A4%A', 'a=b=c', '=x', '%00=%00');

const restRequestShape: fc.Arbitrary<RestRequest> = fc.oneof(
  fc.record({
    path: fc.constant('/api/v1/flows'),
    params: params({ whitelist: filterListValue, blacklist: filterListValue, number: numberValue, first: booleanValue, since: hostileTime, until: hostileTime }),
    raw: rawSuffix,
  }),
  fc.record({ path: fc.constant('/api/v1/service-map'), params: params({ namespace: namespaceValue, since: hostileTime }), raw: rawSuffix }),
  fc.record({ path: fc.constant('/api/v1/metrics'), params: params({ window: windowValue, namespace: namespaceValue }), raw: rawSuffix }),
  fc.record({
    path: fc.constantFrom('/api/v1/policies', '/api/v1/status', '/api/v1/nodes', '/api/v1/namespaces'),
    params: params({ namespace: namespaceValue, kind: hostileString }),
    raw: rawSuffix,
  }),
  fc.record({
    path: fc.oneof(fc.constantFrom('/api/v1/policies/default/x', '/api/v1/flows/1', '/api/v2/flows', '/api/', '/api/v1/%ZZ', '/api/v1/..%2f..%2fetc'), hostileString.map((text) => `/api/v1/${encodeQueryPart(text)}`)),
    params: params({ number: numberValue }),
    raw: rawSuffix,
  }),
);

const restRequest = restRequestShape.map((input) => withDisplay(input, `GET ${abbreviated(`${input.path}${queryOf(input)}`, 400)}`));

function queryOf(input: RestRequest): string {
  const pairs = input.params.map(([key, value]) => `${encodeQueryPart(key)}=${encodeQueryPart(value)}`);
  if (input.raw !== '') pairs.push(input.raw);
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

/** The names a 400 may start with: the parameters known for the path and every key the request gave. */
const KNOWN_PARAMS = ['whitelist', 'blacklist', 'number', 'first', 'since', 'until', 'namespace', 'window'];

function describeRest(input: RestRequest, answer: Answer): string {
  return `GET ${input.path}${queryOf(input).slice(0, 300)} answered ${answer.status} ${answer.contentType}: ${answer.text.slice(0, 300)}`;
}

function expectCleanAnswer(input: RestRequest, answer: Answer): void {
  const what = describeRest(input, answer);
  const requestLineBytes = Buffer.byteLength(`${input.path}${queryOf(input)}`);
  if (answer.status === 431 || answer.status === RESET) {
    // Node's HTTP parser refused a request line over its header limit (with a 431, or by closing while the client still wrote).
    expect(requestLineBytes, `${what}: refused a request under the header limit`).toBeGreaterThan(MAX_HEADER_BYTES - 1024);
    return;
  }
  expect([200, 400, 404], what).toContain(answer.status);
  expect(answer.contentType, what).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as { error?: unknown };
  if (answer.status === 200) return;
  // The keys as the server's query parser (Express 5's, node:querystring) decodes them.
  const keys = Object.keys(parseQuery(queryOf(input).slice(1)));
  const reason = unclearErrorReason(body.error, answer.status === 404 ? ['no such API'] : [...KNOWN_PARAMS, ...keys, 'query']);
  expect(reason, what).toBeUndefined();
}

describe('REST API under generated parameters', () => {
  it(
    'answers every request with data or a 400/404 naming the parameter, and stays up',
    async () => {
      await fc.assert(
        fc.asyncProperty(restRequest, async (input) => {
          await ensureApiRunning();
          expectCleanAnswer(input, await get(`${input.path}${queryOf(input)}`));
          await expectApiAlive();
        }),
        fuzzParameters(200),
      );
    },
    fuzzTimeoutMs(120_000),
  );
});

/** One WebSocket message: its data and whether it goes as a binary frame. */
interface StreamInput {
  data: string | Buffer;
  binary: boolean;
  /** The top-level keys it carries, which an error may name. */
  keys: string[];
}

/** The WebSocket server refuses messages over its 256 KiB limit by closing with 1009. */
const MAX_STREAM_MESSAGE_BYTES = 256 * 1024;

const subscribeFields = fc.record(
  {
    type: fc.oneof({ arbitrary: fc.constant('subscribe'), weight: 6 }, hostileJsonValue),
    namespace: fc.oneof(namespaceValue.map((text) => text as unknown), longString(100_000, 200_000), hostileJsonValue),
    whitelist: fc.oneof(flowFilterListJson({ min: 1_000, max: 50_000 }).map((text) => ({ json: text })), hostileJsonValue),
    blacklist: flowFilterListJson({ min: 1_000, max: 20_000 }).map((text) => ({ json: text })),
    since: fc.oneof(hostileTime.map((text) => text as unknown), hostileJsonValue),
  },
  { requiredKeys: ['type'] },
);

/** A subscribe message as JSON text; filter lists are spliced in as the (possibly malformed) JSON they are. */
function subscribeText(fields: Record<string, unknown>, extra: readonly [string, unknown] | null): string {
  const members = Object.entries(fields).map(([key, value]) => {
    const json = typeof value === 'object' && value !== null && 'json' in value ? String((value as { json: string }).json) : (JSON.stringify(value) ?? 'null');
    return `${JSON.stringify(key)}:${json}`;
  });
  if (extra) members.push(`${JSON.stringify(extra[0])}:${JSON.stringify(extra[1]) ?? 'null'}`);
  return `{${members.join(',')}}`;
}

const streamInputShape: fc.Arbitrary<StreamInput> = fc.oneof(
  {
    arbitrary: fc
      .tuple(subscribeFields, fc.option(fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'follow', 'number'), hostileString), hostileJsonValue), { freq: 4 }), fc.boolean())
      .map(([fields, extra, binary]) => {
        const text = subscribeText(fields, extra);
        return { data: binary ? Buffer.from(text) : text, binary, keys: [...Object.keys(fields), ...(extra ? [extra[0]] : [])] };
      }),
    weight: 8,
  },
  { arbitrary: notJson.map((text) => ({ data: text, binary: false, keys: [] })), weight: 1 },
  { arbitrary: hostileJsonValue.map((value) => ({ data: JSON.stringify(value) ?? 'null', binary: false, keys: [] })), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true, keys: [] })), weight: 1 },
  { arbitrary: fc.integer({ min: MAX_STREAM_MESSAGE_BYTES - 10, max: MAX_STREAM_MESSAGE_BYTES + 100_000 }).map((size) => ({ data: `{"type":"subscribe","namespace":"${'a'.repeat(size)}"}`, binary: false, keys: ['type', 'namespace'] })), weight: 1 },
);

const streamInput = streamInputShape.map((input) =>
  withDisplay(input, `${input.binary ? 'binary' : 'text'} ${JSON.stringify(abbreviated(typeof input.data === 'string' ? input.data : input.data.toString('utf8'), 300))}`),
);

interface StreamReply {
  type?: unknown;
  error?: unknown;
  reset?: unknown;
  flows?: unknown[];
}

async function openStream(): Promise<{ ws: WebSocket; replies: StreamReply[]; closed: Promise<number> }> {
  const ws = new WebSocket(`${api.url.replace(/^http/, 'ws')}/api/v1/stream`);
  const replies: StreamReply[] = [];
  ws.on('message', (data) => replies.push(JSON.parse(data.toString()) as StreamReply));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, replies, closed };
}

const WELL_FORMED_SUBSCRIBE = JSON.stringify({ type: 'subscribe', namespace: 'default', since: '2024-01-01T00:00:00Z' });

/** Sends a well-formed subscribe on `stream` and waits for a batch that starts afresh (reset), or the stall limit. */
async function expectBatchAfterSubscribe(stream: Awaited<ReturnType<typeof openStream>>): Promise<StreamReply> {
  const before = stream.replies.length;
  stream.ws.send(WELL_FORMED_SUBSCRIBE);
  return waitFor(() => stream.replies.slice(before).find((reply) => reply.type === 'batch' && reply.reset === true), 'a batch after a well-formed subscribe', STALL_MS);
}

describe('/api/v1/stream under generated messages', () => {
  it(
    'answers every message with a batch or an error naming the field, and a well-formed subscribe still gets its batch',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(streamInput, { minLength: 1, maxLength: 4 }), async (burst) => {
          await ensureApiRunning();
          const stream = await openStream();
          let closeCode: number | undefined;
          void stream.closed.then((code) => (closeCode = code));
          for (const message of burst) stream.ws.send(message.data, { binary: message.binary });
          const oversized = burst.some((message) => Buffer.byteLength(message.data) > MAX_STREAM_MESSAGE_BYTES);
          if (oversized) {
            // The one refusal that is not a message: the connection closes with 1009 (message too big).
            expect(await stream.closed).toBe(1009);
          } else {
            await expectBatchAfterSubscribe(stream);
            expect(closeCode, 'the server closed a connection that sent no oversized message').toBeUndefined();
          }
          const fields = ['message', 'type', 'namespace', 'whitelist', 'blacklist', 'since', ...burst.flatMap((message) => message.keys)];
          for (const reply of stream.replies) {
            const what = `reply ${abbreviated(JSON.stringify(reply), 300)} to ${burst.map((message) => abbreviated(String(message.data))).join(' | ')}`;
            expect(['batch', 'error'], what).toContain(reply.type);
            if (reply.type === 'error') expect(unclearErrorReason(reply.error, fields), what).toBeUndefined();
          }
          stream.ws.terminate();

          const fresh = await openStream();
          const batch = await expectBatchAfterSubscribe(fresh);
          expect(batch.flows?.length, 'the replayed flows of namespace default').toBeGreaterThan(0);
          fresh.ws.terminate();
          await expectApiAlive();
        }),
        fuzzParameters(60),
      );
    },
    fuzzTimeoutMs(120_000),
  );
});

describe('the API’s log after the fuzz tests', () => {
  // An error caught on the way (a 500, a failed stream message) leaves a stack trace in the log
  // even where the answer looked clean; the log is read last because its lines arrive late.
  it('holds no stack trace', () => {
    for (const log of apiLogs.map((stderr) => stderr())) {
      const frame = STACK_FRAME.exec(log);
      expect(frame, `the API logged a stack trace:\n${frame ? abbreviated(log.slice(Math.max(0, log.lastIndexOf('\n[api]', frame.index)), frame.index + 800), 2_000) : ''}`).toBeNull();
    }
  });
});
