import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createApiServer, Observer, type ApiServer } from '@tycho/agent';
import type { Flow } from '@tycho/flow';
import { startTychoApi, type TychoApi, type TychoApiOptions } from './apiServer.ts';
import type { StreamMessage } from './streamHub.ts';

/**
 * Test fixtures for the API: real agents (the agent's own API server and
 * Observer) on temporary unix sockets, flows put into their observers
 * directly, and the API started in-process against them.
 */

export const BASE_MS = Date.UTC(2024, 0, 1);

/** A flow at BASE + `second` on `node`, from default/pod-to-a to default/echo-a:8080 unless overridden. */
export function flowAt(node: string, second: number, overrides: Partial<Flow> = {}): Flow {
  return {
    time: new Date(BASE_MS + second * 1000).toISOString(),
    uuid: `${node}-${second}`,
    verdict: 'FORWARDED',
    IP: { source: '10.244.0.5', destination: '10.244.1.7', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000 + second, destination_port: 8080, flags: { SYN: true } } },
    source: { identity: 300, namespace: 'default', labels: ['k8s:app=pod-to-a'], pod_name: 'pod-to-a-1', workloads: [{ name: 'pod-to-a', kind: 'Deployment' }] },
    destination: { identity: 301, namespace: 'default', labels: ['k8s:app=echo-a'], pod_name: 'echo-a-1', workloads: [{ name: 'echo-a', kind: 'Deployment' }] },
    Type: 'L3_L4',
    node_name: node,
    event_type: { type: 4, sub_type: 5 },
    trace_observation_point: 'FROM_ENDPOINT',
    traffic_direction: 'EGRESS',
    is_reply: false,
    ...overrides,
  };
}

/** A flow inside kube-system: kube-dns answering coredns-ish traffic. */
export function kubeSystemFlow(node: string, second: number): Flow {
  return flowAt(node, second, {
    uuid: `${node}-dns-${second}`,
    l4: { UDP: { source_port: 50000, destination_port: 53 } },
    source: { identity: 400, namespace: 'kube-system', labels: ['k8s:k8s-app=probe'], pod_name: 'probe-1' },
    destination: { identity: 401, namespace: 'kube-system', labels: ['k8s:k8s-app=kube-dns'], pod_name: 'kube-dns-1' },
  });
}

export interface TestAgent {
  readonly node: string;
  readonly socketPath: string;
  readonly observer: Observer;
  publish(...flows: Flow[]): void;
  /** Starts (or restarts) the agent's API server on its socket; the observer and its flows stay. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function testAgent(socketDir: string, node: string): TestAgent {
  const socketPath = join(socketDir, node, 'agent.sock');
  const observer = new Observer({ nodeName: node, ringCapacity: 255 });
  let server: ApiServer | undefined;
  return {
    node,
    socketPath,
    observer,
    publish: (...flows) => flows.forEach((flow) => observer.publish(flow)),
    async start() {
      mkdirSync(join(socketDir, node), { recursive: true });
      server = createApiServer({
        observer,
        endpoints: { register: () => { throw new Error('no endpoints in API tests'); }, deregister: () => {}, list: () => [] },
      });
      await server.listen(socketPath);
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
  };
}

export interface TestCluster {
  readonly dir: string;
  readonly socketDir: string;
  readonly webDir: string;
  readonly agents: TestAgent[];
  api: TychoApi;
  get(path: string): Promise<{ status: number; body: unknown; text: string; contentType: string }>;
  close(): Promise<void>;
}

/** Agents for `nodes` in a temporary socket dir (started), and the API following them. */
export async function startTestCluster(nodes: string[], apiOptions: Partial<TychoApiOptions> = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tycho-api-test-'));
  const socketDir = join(dir, 'run');
  mkdirSync(socketDir);
  const agents = nodes.map((node) => testAgent(socketDir, node));
  for (const agent of agents) await agent.start();
  const webDir = join(dir, 'web');
  const api = await startTychoApi({
    port: 0,
    host: '127.0.0.1',
    socketDir,
    webDir,
    relay: { rescanMs: 50, statusPollMs: 50, initialBackoffMs: 20, maxBackoffMs: 200 },
    log: () => {},
    ...apiOptions,
  });
  return {
    dir,
    socketDir,
    webDir,
    agents,
    api,
    get: (path) => httpGet(`${api.url}${path}`),
    async close() {
      await api.close();
      for (const agent of agents) await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function httpGet(url: string): Promise<{ status: number; body: unknown; text: string; contentType: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const contentType = res.headers['content-type'] ?? '';
        resolve({ status: res.statusCode ?? 0, text, contentType, body: contentType.includes('json') ? JSON.parse(text) : undefined });
      });
    })
      .on('error', reject)
      .end();
  });
}

/** Polls `check` until it returns something truthy (or the test times out); no timing is asserted. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A `/api/v1/stream` client that records every message. */
export async function streamClient(apiUrl: string) {
  const ws = new WebSocket(`${apiUrl.replace(/^http/, 'ws')}/api/v1/stream`);
  const messages: StreamMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as StreamMessage));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    messages,
    send: (message: unknown) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    batches: () => messages.filter((m): m is Extract<StreamMessage, { type: 'batch' }> => m.type === 'batch'),
    close: () => ws.close(),
  };
}

export const uuids = (responses: readonly { flow?: Flow }[]) => responses.map((r) => r.flow?.uuid);
