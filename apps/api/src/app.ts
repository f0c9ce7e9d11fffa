import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { compileFilters } from '@tycho/filters';
import type { AgentRelay } from './agentRelay.ts';
import { parseFlowsQuery, parseServiceMapQuery } from './flowQuery.ts';
import { parseMetricsQuery } from './metricsQuery.ts';
import type { MetricsTimeline } from './metricsTimeline.ts';
import type { ApiCluster } from './apiCluster.ts';
import type { NamespaceCatalog } from './namespaceCatalog.ts';
import { policiesRouter } from './policiesApi.ts';
import type { ServiceMapService } from './serviceMapService.ts';

export interface AppOptions {
  relay: AgentRelay;
  serviceMaps: ServiceMapService;
  namespaces: NamespaceCatalog;
  metrics: MetricsTimeline;
  /** The cluster through the Kubernetes API's informers, for GET /api/v1/policies. */
  kube?: ApiCluster;
  /** The built web app (apps/web/dist); served with index.html for every other path. */
  webDir: string;
  now?: () => number;
  log?: (line: string) => void;
}

const FLOWS_HEAD = Buffer.from('{"flows":');
const FLOWS_TAIL = Buffer.from('}');
/** GET /api/v1/flows answers being written at a time; more get 503 with Retry-After. */
const MAX_FLOWS_ANSWERS_IN_FLIGHT = 64;

export const WEB_BUILD_HINT = 'build it with `npm run build -w @tycho/web` (it writes apps/web/dist), then reload';

/**
 * The HTTP side of the API (docs/contracts.md, "HTTP API"): REST under
 * /api/v1, health probes, and the web app. Every query is validated; a bad
 * parameter is a 400 `{error: "<param>: <what is wrong>"}`.
 */
export function createApp(options: AppOptions): express.Express {
  const { relay, serviceMaps, namespaces, metrics } = options;
  const now = options.now ?? Date.now;
  /** Answers of GET /api/v1/flows not yet handed to their sockets: each holds up to megabytes, so a client that stops reading cannot pile them up. */
  let flowsAnswersInFlight = 0;
  const app = express();
  app.disable('x-powered-by');
  app.set('json spaces', 0);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', (_req, res) => {
    if (relay.isReady()) res.json({ ready: true });
    else res.status(503).json({ ready: false, error: 'no agent connected; see GET /api/v1/nodes' });
  });

  app.get('/api/v1/flows', (req, res) => {
    const query = parseFlowsQuery(req.query as Record<string, unknown>, now);
    if (!query.ok) return badRequest(res, query.error);
    const { whitelist, blacklist, number, first, sinceNs, untilNs } = query.value;
    if (flowsAnswersInFlight >= MAX_FLOWS_ANSWERS_IN_FLIGHT) {
      res.set('Retry-After', '1');
      res.status(503).json({ error: `flows: ${MAX_FLOWS_ANSWERS_IN_FLIGHT} answers are still being sent; try again shortly` });
      return;
    }
    // The held flows' bytes spliced into the answer: the same bytes as res.json({ flows }) of the parsed flows,
    // without an ETag (the answer changes with every flow; hashing a megabyte per request would cost as much as building it).
    const body = relay.heldFlowsJson(
      {
        ...(whitelist.length > 0 || blacklist.length > 0 ? { matches: compileFilters(whitelist, blacklist) } : {}),
        ...(number !== undefined ? { number } : {}),
        first,
        ...(sinceNs !== undefined ? { sinceNs } : {}),
        ...(untilNs !== undefined ? { untilNs } : {}),
      },
      { head: FLOWS_HEAD, tail: FLOWS_TAIL },
    );
    flowsAnswersInFlight++;
    res.once('close', () => flowsAnswersInFlight--);
    res.status(200).set({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length) });
    res.end(body);
  });

  app.get('/api/v1/namespaces', (_req, res) => {
    res.json({ namespaces: namespaces.list() });
  });

  app.get('/api/v1/nodes', (_req, res) => {
    res.json({ nodes: relay.nodes() });
  });

  app.get('/api/v1/status', (_req, res) => {
    res.json(relay.status());
  });

  app.get('/api/v1/service-map', (req, res) => {
    const query = parseServiceMapQuery(req.query as Record<string, unknown>, now);
    if (!query.ok) return badRequest(res, query.error);
    res.json(serviceMaps.snapshot(query.value));
  });

  app.get('/api/v1/metrics', (req, res) => {
    const query = parseMetricsQuery(req.query as Record<string, unknown>);
    if (!query.ok) return badRequest(res, query.error);
    res.json(metrics.summary(query.value.window, query.value.namespace));
  });

  app.use(policiesRouter(options.kube));

  app.use('/api', (req, res) => {
    res.status(404).json({ error: `no such API: ${req.method} ${req.originalUrl.split('?')[0]}` });
  });

  serveWebApp(app, resolve(options.webDir));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    options.log?.(`api: ${req.method} ${req.originalUrl} failed: ${(err as Error).stack ?? String(err)}`);
    if (res.headersSent) return res.destroy();
    res.status(500).json({ error: `internal error: ${(err as Error).message}` });
  });
  return app;
}

function badRequest(res: Response, error: string): void {
  res.status(400).json({ error });
}

/** Static files of the web app, and index.html for any other GET (client-side routes). */
function serveWebApp(app: express.Express, webDir: string): void {
  const index = join(webDir, 'index.html');
  app.use(express.static(webDir, { index: 'index.html', fallthrough: true }));
  app.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (!existsSync(index)) {
      res
        .status(503)
        .type('text/plain')
        .send(`The Tycho web app is not built: ${index} does not exist.\n${WEB_BUILD_HINT}.\nThe API is up: try /api/v1/status.\n`);
      return;
    }
    res.sendFile(index);
  });
}
