import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ObserveError } from '@tycho/flow';
import { containerIdSchema, endpointRegistrationSchema, type EndpointRegistration } from './endpointRegistration.ts';
import type { LocalEndpoint } from './endpointManager.ts';
import { parseObserveRequest } from './observeRequestSchema.ts';
import { createEndpointInterner, INTERNED_ENDPOINTS, MAX_RESPONSES_PER_BATCH, observeEncodingOf, type ObserveEncoding } from './observerEncoding.ts';
import type { PolicyResolverStatus } from './policyResolver.ts';
import type { Observer } from './observer.ts';
import type { ServicesStatus } from './servicesController.ts';
import { describeSchemaIssues } from './schemaIssues.ts';

/** What the API needs from the endpoint manager. */
export interface EndpointRegistry {
  /** May wait (bounded) for the pod to be known: the agent resolves its identity through the API. */
  register(registration: EndpointRegistration): LocalEndpoint | Promise<LocalEndpoint>;
  deregister(containerId: string): void;
  list(): LocalEndpoint[];
}

export interface ApiServerOptions {
  observer: Observer;
  endpoints: EndpointRegistry;
  /** What `GET /v1/policies` shows: the policy in force per endpoint of this node. */
  policies?: { status(): PolicyResolverStatus };
  /** What `GET /v1/services` shows: the service frontends and backends this node load-balances. */
  services?: { status(): ServicesStatus };
  /** `kubernetes` in `GET /v1/status`: whether the agent's informers have synced, and this node's pod CIDR. */
  kubernetes?: { status(): { synced: boolean; unsynced: string[]; pod_cidr?: string } };
  log?: (message: string) => void;
}

const MAX_BODY_BYTES = 64 * 1024;
/** A follower whose socket holds more than this unsent stops reading the ring until it drains. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const WS_CLOSE_INVALID_REQUEST = 1008;

/**
 * The agent's API on its unix socket (docs/contracts.md): the endpoint API
 * the CNI plugin calls, `/v1/status`, and the `/v1/observe` WebSocket
 * (whose messages are JSON arrays of GetFlowsResponse, one per batch, or,
 * when the client asks, the same with endpoints interned: observerEncoding.ts).
 * Every request is validated; a bad one gets a 400 (or a WebSocket error
 * message) naming the field, never a crash.
 */
export function createApiServer(options: ApiServerOptions) {
  const log = options.log ?? (() => {});
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  const server: Server = createServer((req, res) => {
    handleHttp(req, res).catch((err: unknown) => {
      log(`api: ${req.method} ${req.url} failed: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendJson(res, 500, { error: `internal error: ${(err as Error).message}` });
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (url.pathname !== '/v1/observe') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const encoding = observeEncodingOf(url);
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Before anything else: a socket error (an oversized message, a broken frame) without a
      // listener would be thrown, and end the agent, on a socket being refused as on one being served.
      ws.on('error', (err) => log(`api: observe socket error: ${err.message}`));
      if (encoding.ok) serveObserve(ws, encoding.encoding);
      else rejectObserve(ws, encoding.error);
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://agent').pathname;
    const method = req.method ?? 'GET';
    if (path === '/v1/status') {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      return sendJson(res, 200, { ...options.observer.status(), ...(options.kubernetes ? { kubernetes: options.kubernetes.status() } : {}) });
    }
    if (path === '/v1/policies') {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      if (!options.policies) return sendJson(res, 404, { error: 'this agent does not resolve policies' });
      return sendJson(res, 200, options.policies.status());
    }
    if (path === '/v1/services') {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      if (!options.services) return sendJson(res, 404, { error: 'this agent does not load-balance services (started without --cgroup)' });
      return sendJson(res, 200, options.services.status());
    }
    if (path === '/v1/endpoints') {
      if (method === 'GET') return sendJson(res, 200, options.endpoints.list());
      if (method !== 'POST') return methodNotAllowed(res, 'GET, POST');
      const body = await readJsonBody(req);
      if (!body.ok) return sendJson(res, body.status, { error: body.error });
      const parsed = endpointRegistrationSchema.safeParse(body.value);
      if (!parsed.success) {
        return sendJson(res, 400, { error: `invalid endpoint: ${describeSchemaIssues(parsed.error, 'body')}` });
      }
      const endpoint = await options.endpoints.register(parsed.data);
      log(`endpoint ${endpoint.id} registered: ${endpoint.namespace}/${endpoint.podName} ${endpoint.ipv4} identity ${endpoint.identity}`);
      return sendJson(res, 201, { id: endpoint.id, identity: endpoint.identity });
    }
    const endpointMatch = /^\/v1\/endpoints\/([^/]+)$/.exec(path);
    if (endpointMatch?.[1]) {
      if (method !== 'DELETE') return methodNotAllowed(res, 'DELETE');
      const containerId = containerIdFromPath(endpointMatch[1]);
      if (!containerId.ok) return sendJson(res, 400, { error: containerId.error });
      options.endpoints.deregister(containerId.value);
      log(`endpoint of container ${containerId.value} deregistered`);
      res.writeHead(204).end();
      return;
    }
    sendJson(res, 404, { error: `no such API: ${method} ${path}` });
  }

  function serveObserve(ws: WebSocket, encoding: ObserveEncoding): void {
    ws.once('message', (data, isBinary) => {
      let decoded: unknown;
      try {
        decoded = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
      } catch (err) {
        return rejectObserve(ws, `invalid observe request: not JSON: ${(err as Error).message}`);
      }
      const parsed = parseObserveRequest(decoded);
      if (!parsed.ok) return rejectObserve(ws, parsed.error);

      // Responses go out batched: one JSON array per event-loop turn (or per
      // MAX_RESPONSES_PER_BATCH responses), each item a GetFlowsResponse, so a busy
      // stream costs one WebSocket message per batch rather than per flow. Interned,
      // the endpoints a batch defines go in a message of their own just before it.
      const interner = encoding === INTERNED_ENDPOINTS ? createEndpointInterner() : undefined;
      let batch: string[] = [];
      let flushQueued = false;
      const flush = () => {
        flushQueued = false;
        if (batch.length === 0) return;
        const text = `[${batch.join(',')}]`;
        batch = [];
        const definitions = interner?.takeDefinitions();
        if (ws.readyState !== ws.OPEN) return;
        if (definitions !== undefined) ws.send(definitions);
        ws.send(text, () => {
          if (ws.bufferedAmount < MAX_BUFFERED_BYTES) stream.resume();
        });
      };
      const stream = options.observer.getFlows(parsed.request, {
        send: (response) => {
          if (ws.readyState !== ws.OPEN) return;
          batch.push(interner ? interner.encode(response) : JSON.stringify(response));
          if (batch.length >= MAX_RESPONSES_PER_BATCH) flush();
          else if (!flushQueued) {
            flushQueued = true;
            setImmediate(flush);
          }
        },
        end: () => {
          flush();
          ws.close(1000, 'done');
        },
        isBlocked: () => ws.bufferedAmount >= MAX_BUFFERED_BYTES,
      });
      ws.on('close', () => stream.close());
    });
  }

  return {
    server,
    /** Listens on `socketPath`, replacing a socket left behind by an earlier agent. */
    async listen(socketPath: string): Promise<void> {
      mkdirSync(dirname(socketPath), { recursive: true });
      await removeStaleSocket(socketPath);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
    close(): Promise<void> {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  } as const;
}

export type ApiServer = ReturnType<typeof createApiServer>;

function rejectObserve(ws: WebSocket, error: string): void {
  const message: ObserveError = { error };
  ws.send(JSON.stringify(message), () => ws.close(WS_CLOSE_INVALID_REQUEST, 'invalid request'));
}

/** Removes a socket file nobody listens on any more; a live one belongs to another agent and is left alone. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let isSocket = false;
  try {
    isSocket = statSync(socketPath).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new Error(`api: ${socketPath} exists and is not a socket; refusing to replace it`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`api: another process is listening on ${socketPath}; is an agent for this node already running?`);
  rmSync(socketPath, { force: true });
}

/**
 * The container id of `DELETE /v1/endpoints/<id>`, held to the rule a registration's id
 * follows: the endpoint manager names a state file after it, and `..%2F..%2Fx` must not
 * name another file.
 */
function containerIdFromPath(encoded: string): { ok: true; value: string } | { ok: false; error: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    return { ok: false, error: 'containerId: the path segment is not valid percent-encoding' };
  }
  const parsed = containerIdSchema.safeParse(decoded);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, error: describeSchemaIssues(parsed.error, 'containerId') };
}

type JsonBody = { ok: true; value: unknown } | { ok: false; status: number; error: string };

async function readJsonBody(req: IncomingMessage): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { ok: false, status: 413, error: `request body is larger than ${MAX_BODY_BYTES} bytes` };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: false, status: 400, error: 'request body is empty; expected a JSON object' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, status: 400, error: `request body is not JSON: ${(err as Error).message}` };
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function methodNotAllowed(res: ServerResponse, allowed: string): void {
  res.setHeader('allow', allowed);
  sendJson(res, 405, { error: `method not allowed; use ${allowed}` });
}
