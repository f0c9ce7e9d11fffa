import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { compileFilters, FilterError, validateFilters, type FlowFilter, type FlowPredicate } from '@tycho/filters';
import { epochNsFromTimestamp, type Flow } from '@tycho/flow';
import type { Card, Link } from '@tycho/servicemap';
import type { AgentRelay, RelayStatus } from './agentRelay.ts';
import { parseSince } from './flowQuery.ts';
import type { ServiceMapLease, ServiceMapService } from './serviceMapService.ts';

export const STREAM_PATH = '/api/v1/stream';

/** What the server sends on `/api/v1/stream` (docs/contracts.md). */
export type StreamMessage =
  | {
      type: 'batch';
      flows: Flow[];
      map: { cards: Card[]; links: Link[]; removedCards: string[]; removedLinks: string[] };
      status: RelayStatus;
      /** First batch after a subscribe: the map in it replaces whatever the client held. */
      reset?: true;
      /** Flows this client did not get because it read too slowly (since the previous batch). */
      dropped?: number;
    }
  | { type: 'error'; error: string };

export interface StreamHubOptions {
  relay: AgentRelay;
  serviceMaps: ServiceMapService;
  /** How often batches go out; default 50 ms (the contract promises at most 100 ms). */
  batchMs?: number;
  /** Unsent bytes on a socket above which the client gets nothing until it drains; default 4 MiB. */
  maxBufferedBytes?: number;
  /** Flows kept for a client that cannot keep up; older ones are dropped first. Default 10,000. */
  maxPendingFlows?: number;
  now?: () => number;
  log?: (line: string) => void;
}

interface Subscription {
  namespace: string | undefined;
  matches: FlowPredicate;
  lease: ServiceMapLease;
  /** Map version the client holds; undefined until its first batch (a full map). */
  mapVersion: number | undefined;
}

interface StreamClient {
  ws: WebSocket;
  subscription: Subscription | undefined;
  /** Flows to send: their JSON text's bytes in pieces, or the text, or the flow where neither is known. */
  pending: (Uint8Array[] | string | Flow)[];
  /** The time (epoch ns) of each pending flow, as the relay read it. */
  pendingNs: bigint[];
  dropped: number;
}

const MAX_MESSAGE_BYTES = 256 * 1024;
const BATCH_HEAD = Buffer.from('{"type":"batch","flows":[');
const COMMA = 0x2c; // ','
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const subscribeSchema = z.strictObject({
  type: z.literal('subscribe', { error: "type: expected 'subscribe'" }),
  namespace: z.string({ error: 'namespace: expected a string' }).optional(),
  whitelist: z.unknown().optional(),
  blacklist: z.unknown().optional(),
  since: z.string({ error: 'since: expected a string such as 5m or an RFC 3339 time' }).optional(),
});

function inNamespace(flow: Flow, namespace: string): boolean {
  return flow.source?.namespace === namespace || flow.destination?.namespace === namespace;
}

/**
 * Live subscriptions on `/api/v1/stream`: each client subscribes with a
 * namespace and filters (and again to change them); every `batchMs` it gets
 * the flows that matched and the service-map changes since its last batch.
 * A slow client never holds up the others: while its socket buffer is over
 * the limit it is skipped, its pending flows are capped by dropping the
 * oldest, and its next batch says how many were dropped.
 */
export function createStreamHub(options: StreamHubOptions) {
  const log = options.log ?? (() => {});
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const maxPending = options.maxPendingFlows ?? 10_000;
  const now = options.now ?? Date.now;
  const clients = new Set<StreamClient>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  const stopFlows = options.relay.onFlow((flow, timeNs, flowJson, _timeMs, flowBytes) => {
    for (const client of clients) {
      const subscription = client.subscription;
      if (!subscription) continue;
      if (subscription.namespace !== undefined && !inNamespace(flow, subscription.namespace)) continue;
      if (!subscription.matches(flow)) continue;
      client.pending.push(flowBytes ?? flowJson ?? flow);
      client.pendingNs.push(timeNs);
      if (client.pending.length >= 2 * maxPending) trimPending(client);
    }
  });
  const timer = setInterval(sendBatches, options.batchMs ?? 50);

  function trimPending(client: StreamClient): void {
    const excess = client.pending.length - maxPending;
    if (excess <= 0) return;
    client.pending.splice(0, excess);
    client.pendingNs.splice(0, excess);
    client.dropped += excess;
  }

  function send(client: StreamClient, message: StreamMessage): void {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(message));
  }

  function sendBatches(): void {
    let status: string | undefined;
    // A flow goes out as the bytes (or text) its agent sent; one without them is serialised
    // once per round of batches, whatever the number of subscribers it goes to.
    const serialised = new Map<Flow, Uint8Array>();
    const bytesOf = (flow: Flow | string): Uint8Array => {
      if (typeof flow === 'string') return Buffer.from(flow);
      let bytes = serialised.get(flow);
      if (bytes === undefined) {
        bytes = Buffer.from(JSON.stringify(flow));
        serialised.set(flow, bytes);
      }
      return bytes;
    };
    for (const client of clients) {
      const subscription = client.subscription;
      if (!subscription) continue;
      if (client.ws.bufferedAmount > maxBuffered) {
        trimPending(client);
        continue;
      }
      const selection = subscription.namespace === undefined ? {} : { namespace: subscription.namespace };
      const changes = subscription.lease.map.changesSince(subscription.mapVersion ?? 0, selection);
      const first = subscription.mapVersion === undefined;
      const mapChanged = changes.cards.length + changes.links.length + changes.removedCards.length + changes.removedLinks.length > 0;
      if (!first && !mapChanged && client.pending.length === 0 && client.dropped === 0) continue;
      trimPending(client);
      status ??= JSON.stringify(options.relay.status());
      const pending = client.pending;
      const order = timeOrder(client.pendingNs);
      const map = JSON.stringify({
        cards: changes.cards,
        links: changes.links,
        removedCards: first ? [] : changes.removedCards,
        removedLinks: first ? [] : changes.removedLinks,
      });
      // The same JSON as JSON.stringify of a StreamMessage batch, built as bytes from the
      // flows' bytes with one copy, so it is neither joined as text nor encoded again by ws.
      const tail = Buffer.from(`],"map":${map},"status":${status}${first ? ',"reset":true' : ''}${client.dropped > 0 ? `,"dropped":${client.dropped}` : ''}}`);
      // Two passes over the flows into one buffer: the first gives every flow its bytes and
      // measures them, the second copies them (without a list of every piece to concatenate).
      let length = BATCH_HEAD.length + Math.max(0, pending.length - 1) + tail.length;
      const pieces: Uint8Array[][] = new Array(pending.length);
      for (let i = 0; i < pending.length; i++) {
        const flow = pending[i]!;
        const flowPieces = Array.isArray(flow) ? flow : [bytesOf(flow)];
        pieces[i] = flowPieces;
        for (let p = 0; p < flowPieces.length; p++) length += flowPieces[p]!.length;
      }
      const batch = Buffer.allocUnsafe(length);
      batch.set(BATCH_HEAD, 0);
      let at = BATCH_HEAD.length;
      for (let i = 0; i < pieces.length; i++) {
        if (i > 0) batch[at++] = COMMA;
        const flowPieces = pieces[order ? order[i]! : i]!;
        for (let p = 0; p < flowPieces.length; p++) {
          const piece = flowPieces[p]!;
          batch.set(piece, at);
          at += piece.length;
        }
      }
      batch.set(tail, at);
      sendText(client, batch);
      subscription.mapVersion = changes.version;
      client.pending = [];
      client.pendingNs = [];
      client.dropped = 0;
    }
  }

  /** Sends UTF-8 JSON as a text message. */
  function sendText(client: StreamClient, text: Uint8Array): void {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(text, { binary: false });
  }

  function subscribe(client: StreamClient, data: string): void {
    let decoded: unknown;
    try {
      decoded = JSON.parse(data);
    } catch (err) {
      return send(client, { type: 'error', error: `message: not JSON (${(err as Error).message}); expected {"type":"subscribe",…}` });
    }
    const parsed = subscribeSchema.safeParse(decoded);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const error = issue?.code === 'unrecognized_keys' ? `${issue.keys[0]}: unknown field; expected type, namespace, whitelist, blacklist, since` : (issue?.message ?? 'invalid message');
      return send(client, { type: 'error', error });
    }
    const message = parsed.data;
    const namespace = message.namespace === undefined || message.namespace === 'all' ? undefined : message.namespace;
    if (namespace !== undefined && !NAMESPACE.test(namespace)) {
      return send(client, { type: 'error', error: `namespace: '${namespace}' is not a namespace name or 'all'` });
    }
    let whitelist: FlowFilter[];
    let blacklist: FlowFilter[];
    let matches: FlowPredicate;
    try {
      whitelist = message.whitelist === undefined ? [] : validateFilters(message.whitelist, 'whitelist');
      blacklist = message.blacklist === undefined ? [] : validateFilters(message.blacklist, 'blacklist');
      matches = compileFilters(whitelist, blacklist);
    } catch (err) {
      if (err instanceof FilterError) return send(client, { type: 'error', error: err.message });
      throw err;
    }
    let sinceNs: bigint | undefined;
    if (message.since !== undefined) {
      const since = parseSince(message.since, now);
      if (!since.ok) return send(client, { type: 'error', error: since.error });
      sinceNs = since.value;
    }

    client.subscription?.lease.release();
    const filtered = whitelist.length > 0 || blacklist.length > 0 || sinceNs !== undefined;
    const key = filtered ? JSON.stringify({ whitelist, blacklist, since: sinceNs?.toString() }) : undefined;
    const lease = options.serviceMaps.lease(key, matches, sinceNs);
    client.subscription = { namespace, matches, lease, mapVersion: undefined };
    client.dropped = 0;
    const replay =
      sinceNs === undefined
        ? []
        : options.relay.heldFlows({ sinceNs, matches: (flow) => (namespace === undefined || inNamespace(flow, namespace)) && matches(flow) });
    client.pending = [];
    client.pendingNs = [];
    for (const response of replay) {
      if (!response.flow) continue;
      client.pending.push(response.flow);
      client.pendingNs.push(epochNsFromTimestamp(response.flow.time) ?? 0n);
    }
  }

  return {
    /** Takes over an HTTP upgrade on `/api/v1/stream`; false for other paths. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      if (new URL(req.url ?? '/', 'http://api').pathname !== STREAM_PATH) return false;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const client: StreamClient = { ws, subscription: undefined, pending: [], pendingNs: [], dropped: 0 };
        clients.add(client);
        ws.on('message', (data, isBinary) => subscribe(client, isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString()));
        ws.on('close', () => {
          clients.delete(client);
          client.subscription?.lease.release();
        });
        ws.on('error', (err) => log(`stream: client socket error: ${err.message}`));
      });
      return true;
    },
    get clientCount(): number {
      return clients.size;
    },
    close(): void {
      clearInterval(timer);
      stopFlows();
      for (const client of clients) client.ws.terminate();
      wss.close();
    },
  } as const;
}

export type StreamHub = ReturnType<typeof createStreamHub>;

/** The indexes of `times` in time order (stable); undefined when they are in order already. */
function timeOrder(times: bigint[]): number[] | undefined {
  let ordered = true;
  for (let i = 1; i < times.length && ordered; i++) if (times[i]! < times[i - 1]!) ordered = false;
  if (ordered) return undefined;
  const order = times.map((_, index) => index);
  order.sort((a, b) => {
    const ta = times[a]!;
    const tb = times[b]!;
    return ta < tb ? -1 : ta > tb ? 1 : a - b;
  });
  return order;
}
