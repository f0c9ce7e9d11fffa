// Fuzz test of the agent's API socket, what the CLI, the API and the CNI plugin send to an agent:
// GetFlowsRequest messages on /v1/observe, endpoint registrations and deletions, unknown paths.
// The agent's own API server and Observer run in a child process (no kernel: the endpoint
// datapath is a stand-in), so that a crash or a stalled event loop shows as what it is.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Flow } from '@tycho/flow';
import {
  abbreviated,
  flowFilterListJson,
  fuzzParameters,
  fuzzTimeoutMs,
  hostileJsonValue,
  hostileString,
  hostileTime,
  notJson,
  PROTOTYPE_KEYS,
  STACK_FRAME,
  unclearErrorReason,
  withDisplay,
} from '@tycho/fuzz';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** An answer slower than this is a stalled agent (its ring holds a handful of flows). */
const STALL_MS = 10_000;
/** Node's HTTP header limit. */
const MAX_HEADER_BYTES = 16 * 1024;
/** The agent's limit on a request body and on an observe message. */
const MAX_BODY_BYTES = 64 * 1024;

/** The agent's API server and Observer on a unix socket, as apps/agent/src/main.ts wires them, minus the kernel. */
const AGENT_FIXTURE = `
import { createApiServer, EndpointManager, Observer } from '@tycho/agent';
const [socketPath, stateDir, flowsJson] = process.argv.slice(1);
const observer = new Observer({ nodeName: 'node-1', ringCapacity: 63 });
for (const flow of JSON.parse(flowsJson)) observer.publish(flow);
const endpoints = new EndpointManager({
  stateDir,
  datapath: { attachEndpoint() {}, detachEndpoint() {} },
  resolvePod: () => ({ identity: 256, labels: [], workloads: [] }),
});
const api = createApiServer({ observer, endpoints, log: (line) => process.stderr.write(line + '\\n') });
await api.listen(socketPath);
process.stderr.write('agent fixture listening\\n');
`;

/** A long run of `a` ending in `!`: where a backtracking `(a+)+$` takes exponential time. */
const RUN_OF_A = `${'a'.repeat(40)}!`;
function flowAt(second: number, overrides: Partial<Flow> = {}): Flow {
  const time = new Date(Date.UTC(2024, 0, 1) + second * 1000).toISOString();
  return {
    time,
    uuid: `flow-${second}`,
    verdict: 'FORWARDED',
    Type: 'L3_L4',
    node_name: 'node-1',
    event_type: { type: 4 },
    IP: { source: '10.244.0.5', destination: '10.244.1.7', ipVersion: 'IPv4' },
    source: { identity: 300, namespace: 'default', labels: ['k8s:app=pod-to-a'], pod_name: 'pod-to-a-1' },
    destination: { identity: 301, namespace: 'default', labels: ['k8s:app=echo-a'], pod_name: 'echo-a-1' },
    ...overrides,
  };
}
const HELD_FLOWS: Flow[] = [
  flowAt(1),
  flowAt(2, { Type: 'L7', l7: { type: 'REQUEST', http: { method: 'GET', url: `http://echo-a:8080/${RUN_OF_A}` } } }),
  flowAt(3, { Type: 'L7', l7: { type: 'RESPONSE', dns: { query: `${RUN_OF_A}.example.com.` } } }),
  flowAt(4, { verdict: 'DROPPED', event_type: { type: 1, sub_type: 133 } }),
];

let dir: string;
let socketPath: string;
let agent: { child: ChildProcess; stderr: () => string };
/** Every fixture process's log: read at the end, as its lines arrive late. */
const agentLogs: (() => string)[] = [];

/** Starts the fixture, or starts it again when an earlier input ended it, so each input (and each shrink of it) meets a live agent. */
async function ensureAgentRunning(): Promise<void> {
  if (agent?.child.exitCode === null && agent.child.signalCode === null) return;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', AGENT_FIXTURE, socketPath, join(dir, 'state'), JSON.stringify(HELD_FLOWS)], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  agent = { child, stderr: () => stderr };
  agentLogs.push(() => stderr);
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('agent fixture listening')) {
    if (child.exitCode !== null) throw new Error(`the agent fixture exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`the agent fixture did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-agent-fuzz-'));
  socketPath = join(dir, 'agent.sock');
  await ensureAgentRunning();
});

afterAll(async () => {
  if (agent?.child.exitCode === null) {
    const exited = new Promise((resolve) => agent.child.once('exit', resolve));
    agent.child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  text: string;
}

/** The status when the agent reset the connection instead of answering (a body over its limit). */
const RESET = -1;

function http(method: string, path: string, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, agent: false, timeout: STALL_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${abbreviated(path)} within ${STALL_MS} ms: the agent stalled`)));
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve({ status: RESET, text: err.message }) : reject(err)));
    req.end(body);
  });
}

async function expectAgentAlive(): Promise<void> {
  expect(agent.child.exitCode, `the agent exited; it logged:\n${abbreviated(agent.stderr().slice(-3_000), 3_000)}`).toBeNull();
  const status = await http('GET', '/v1/status');
  expect(status.status).toBe(200);
  expect(JSON.parse(status.text)).toMatchObject({ num_flows: HELD_FLOWS.length });
}

/** Members of a JSON object; a value given as `{json}` is spliced in as the (possibly malformed) JSON it is. */
function objectText(fields: Record<string, unknown>, extra: readonly [string, unknown] | null): string {
  const members = Object.entries(fields).map(([key, value]) => {
    const json = typeof value === 'object' && value !== null && 'json' in value ? String((value as { json: string }).json) : (JSON.stringify(value) ?? 'null');
    return `${JSON.stringify(key)}:${json}`;
  });
  if (extra) members.push(`${JSON.stringify(extra[0])}:${JSON.stringify(extra[1]) ?? 'null'}`);
  return `{${members.join(',')}}`;
}

const validOrHostile = (...valid: unknown[]) => fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 4 }, { arbitrary: hostileJsonValue, weight: 1 });
const filterList = fc.oneof({ arbitrary: flowFilterListJson({ min: 1_000, max: 20_000 }).map((json) => ({ json })), weight: 4 }, hostileJsonValue);
const extraKey = fc.option(fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'type', 'namespace'), hostileString), hostileJsonValue), { freq: 4 });

interface ObserveInput {
  path: string;
  data: string | Buffer;
  binary: boolean;
  /** A valid follow request is answered until the client leaves; the others end with a close. */
  follows: boolean;
  keys: string[];
}

const observeRequest = fc
  .tuple(
    fc.record(
      {
        number: validOrHostile(1, 3, 20, 0, 65_535, 1.5, -1, 2 ** 53, 1e308, '5'),
        first: validOrHostile(true, false, 'true'),
        follow: validOrHostile(false, true, 'yes'),
        since: fc.oneof({ arbitrary: hostileTime.map((text): unknown => text), weight: 4 }, hostileJsonValue),
        until: fc.oneof({ arbitrary: hostileTime.map((text): unknown => text), weight: 4 }, hostileJsonValue),
        whitelist: filterList,
        blacklist: filterList,
      },
      { requiredKeys: [] },
    ),
    extraKey,
  )
  .map(([fields, extra]) => ({ text: objectText(fields, extra), follows: fields.follow === true, keys: [...Object.keys(fields), ...(extra ? [extra[0]] : [])] }));

const observePath = fc.oneof(
  { arbitrary: fc.constant('/v1/observe'), weight: 6 },
  fc.constantFrom('/v1/observe?encoding=interned-endpoints', '/v1/observe?encoding=', '/v1/observe?encoding=interned-endpoints&encoding=plain'),
  hostileString.map((text) => `/v1/observe?encoding=${encodeURIComponent(text.replace(/\p{Surrogate}/gu, '\ufffd'))}`),
);

const observeInput: fc.Arbitrary<ObserveInput> = fc
  .tuple(
    observePath,
    fc.oneof(
      { arbitrary: fc.tuple(observeRequest, fc.boolean()).map(([message, binary]) => ({ data: binary ? Buffer.from(message.text) : message.text, binary, follows: message.follows, keys: message.keys })), weight: 8 },
      { arbitrary: notJson.map((text) => ({ data: text, binary: false, follows: false, keys: [] })), weight: 1 },
      { arbitrary: hostileJsonValue.map((value) => ({ data: JSON.stringify(value) ?? 'null', binary: false, follows: false, keys: [] })), weight: 1 },
      { arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true, follows: false, keys: [] })), weight: 1 },
      { arbitrary: fc.integer({ min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES + 50_000 }).map((size) => ({ data: `{"since":"${'a'.repeat(size)}"}`, binary: false, follows: false, keys: ['since'] })), weight: 1 },
    ),
  )
  .map(([path, message]) => withDisplay({ path, ...message }, `${path} ${message.binary ? 'binary' : 'text'} ${JSON.stringify(abbreviated(String(message.data), 300))}`));

/** Opens /v1/observe, sends one message, collects every frame until the agent closes (or, for a follow, a moment after). */
function observe(input: ObserveInput): Promise<{ frames: string[]; closeCode: number | undefined; refusedUpgrade?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${socketPath}:${input.path}`);
    const frames: string[] = [];
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(stalled);
      resolve({ frames, closeCode: undefined, refusedUpgrade: res.statusCode ?? 0 });
    });
    const stalled = setTimeout(() => reject(new Error(`the agent neither answered nor closed /v1/observe within ${STALL_MS} ms`)), STALL_MS);
    ws.on('open', () => {
      ws.send(input.data, { binary: input.binary });
      if (input.follows) setTimeout(() => ws.close(1000), 300);
    });
    ws.on('message', (data) => frames.push(data.toString()));
    ws.on('close', (code) => {
      clearTimeout(stalled);
      resolve({ frames, closeCode: code });
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(stalled);
      // Node's HTTP parser may close on a request line over its header limit while the client still writes it.
      if ((err.code === 'EPIPE' || err.code === 'ECONNRESET') && frames.length === 0) resolve({ frames, closeCode: undefined, refusedUpgrade: RESET });
      else reject(err);
    });
  });
}

const OBSERVE_FIELDS = ['number', 'first', 'follow', 'since', 'until', 'whitelist', 'blacklist', 'request', 'encoding', 'not JSON'];
const REFUSAL_PREFIX = 'invalid observe request: ';

describe('/v1/observe under generated requests', () => {
  it(
    'streams flows or refuses the request with an error naming the field, and the agent stays up',
    async () => {
      await fc.assert(
        fc.asyncProperty(observeInput, async (input) => {
          await ensureAgentRunning();
          const { frames, closeCode, refusedUpgrade } = await observe(input);
          const what = `${abbreviated(input.path)} ${abbreviated(String(input.data), 300)} → ${refusedUpgrade ?? 'close'} ${closeCode}, frames ${abbreviated(frames.join(' | '), 600)}`;
          if (refusedUpgrade !== undefined) {
            // Node's HTTP parser refuses a request line over its 16 KiB header limit before the agent sees it.
            expect([431, RESET], what).toContain(refusedUpgrade);
            expect(Buffer.byteLength(input.path), what).toBeGreaterThan(MAX_HEADER_BYTES - 1024);
          } else {
            expect([1000, 1005, 1008, 1009], what).toContain(closeCode);
          }
          for (const frame of frames) {
            const message: unknown = JSON.parse(frame);
            if (Array.isArray(message)) continue;
            if (typeof message === 'object' && message !== null && 'endpoints' in message) continue;
            const error = (message as { error?: unknown }).error;
            expect(typeof error === 'string' && error.startsWith(REFUSAL_PREFIX), `${what}: not a batch, definitions or refusal`).toBe(true);
            expect(unclearErrorReason((error as string).slice(REFUSAL_PREFIX.length), [...OBSERVE_FIELDS, ...input.keys]), what).toBeUndefined();
          }
          await expectAgentAlive();
        }),
        fuzzParameters(150),
      );
    },
    fuzzTimeoutMs(90_000),
  );
});

const registration = fc
  .tuple(
    fc.record(
      {
        containerId: validOrHostile('ctr-1', 'ctr-2', 'a'.repeat(64)),
        podName: validOrHostile('pod-a', 'a'.repeat(300)),
        namespace: validOrHostile('default', 'kube-system', 'Default'),
        netns: validOrHostile('/var/run/netns/pod-a', 'relative'),
        ifname: validOrHostile('eth0', 'e'.repeat(16)),
        hostIfname: validOrHostile('lxc1234', 'lxc/../x'),
        hostIfindex: validOrHostile(7, 0, -1, 2 ** 32, 1.5),
        ipv4: validOrHostile('10.244.7.2', '10.244.7.256', '::1'),
      },
      { requiredKeys: [] },
    ),
    extraKey,
  )
  .map(([fields, extra]) => objectText(fields, extra));

interface EndpointCall {
  method: string;
  path: string;
  body: string | undefined;
}

const endpointCall: fc.Arbitrary<EndpointCall> = fc
  .oneof(
    { arbitrary: fc.oneof({ arbitrary: registration, weight: 6 }, notJson, hostileJsonValue.map((value) => JSON.stringify(value) ?? ''), fc.constant('x'.repeat(MAX_BODY_BYTES + 1))).map((body) => ({ method: 'POST', path: '/v1/endpoints', body })), weight: 6 },
    { arbitrary: fc.oneof(fc.constantFrom('ctr-1', '%ZZ', '%', '%E0%A4%A', '..', '%2e%2e', '%00'), hostileString.map((text) => encodeURIComponent(text.replace(/\p{Surrogate}/gu, '\ufffd')))).map((id) => ({ method: 'DELETE', path: `/v1/endpoints/${id}`, body: undefined })), weight: 3 },
    {
      arbitrary: fc.tuple(fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), fc.constantFrom('/v1/status', '/v1/endpoints', '/v1/policies', '/v1/services', '/v1/observe', '/v1/nope', '/', '//v1/status', '/v1/endpoints/a/b')).map(([method, path]) => ({ method, path, body: undefined })),
      weight: 2,
    },
  )
  .map((call) => withDisplay(call, `${call.method} ${abbreviated(call.path, 200)} ${call.body === undefined ? '' : JSON.stringify(abbreviated(call.body, 300))}`));

describe('the agent’s HTTP endpoints under generated requests', () => {
  it(
    'answers every request with a success or a 4xx naming what was wrong, never a 500, and stays up',
    async () => {
      await fc.assert(
        fc.asyncProperty(endpointCall, async (call) => {
          await ensureAgentRunning();
          const answer = await http(call.method, call.path, call.body);
          const what = `${call.method} ${abbreviated(call.path)} ${abbreviated(call.body ?? '', 200)} → ${answer.status} ${abbreviated(answer.text, 300)}`;
          if (answer.status === RESET) {
            const overLimit = Buffer.byteLength(call.body ?? '') > MAX_BODY_BYTES || Buffer.byteLength(call.path) > MAX_HEADER_BYTES - 1024;
            expect(overLimit, `${what}: reset a request under the body and header limits`).toBe(true);
          } else if (answer.status === 431) {
            // Node's HTTP parser refuses a request line over its header limit before the agent sees it.
            expect(Buffer.byteLength(call.path), `${what}: 431 for a request under the header limit`).toBeGreaterThan(MAX_HEADER_BYTES - 1024);
          } else {
            expect([200, 201, 204, 400, 404, 405, 413], what).toContain(answer.status);
          }
          if (answer.status >= 400 && answer.status !== 431) {
            const error = (JSON.parse(answer.text) as { error?: unknown }).error;
            expect(typeof error === 'string' && error.trim() !== '' && !STACK_FRAME.test(error) && !/internal error/.test(error), what).toBe(true);
          }
          await expectAgentAlive();
        }),
        fuzzParameters(150),
      );
    },
    fuzzTimeoutMs(60_000),
  );
});

describe('the agent’s log after the fuzz tests', () => {
  it('holds no stack trace', () => {
    for (const log of agentLogs.map((stderr) => stderr())) {
      const frame = STACK_FRAME.exec(log);
      expect(frame, `the agent logged a stack trace:\n${frame ? abbreviated(log.slice(Math.max(0, frame.index - 1_000), frame.index + 800), 2_000) : ''}`).toBeNull();
    }
  });
});
