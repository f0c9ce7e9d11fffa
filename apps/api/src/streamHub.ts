import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { compileFilters, FilterError, validateFilters, type FlowFilter, type FlowPredicate } from '@tycho/filters';
import type { Flow } from '@tycho/flow';
import type { Card, Link } from '@tycho/servicemap';
import type { AgentRelay, RelayStatus } from './agentRelay.ts';
import { parseNamespace, parseSince, unknownKeyError } from './flowQuery.ts';
import { ServiceMapLimitError, type ServiceMapLease, type ServiceMapService } from './serviceMapService.ts';

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
  /** Messages a client may send at once (a token bucket's size); default 20. */
  messageBurst?: number;
  /** Messages a second a client may send once it has used its burst; default 10. */
  messagesPerSecond?: number;
  /** Held entries read per turn of the event loop while a `since` subscription's flows are replayed; default 512. */
  replayChunkEntries?: number;
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
  /** The newest valid subscribe not in effect yet; a later one replaces it. */
  requested: SubscribeRequest | undefined;
  /** True while a requested subscription is being prepared (its map built, its flows replayed). */
  preparing: boolean;
  /** Token bucket of messages: tokens left, and when it was last filled. */
  tokens: number;
  tokensAtMs: number;
  /** Messages turned down for the rate since the last one taken. */
  refused: number;
  /** Closed, or closing: the hub holds nothing for it any more. */
  gone: boolean;
}

/** A subscribe message, validated, waiting for its turn. */
interface SubscribeRequest {
  namespace: string | undefined;
  whitelist: FlowFilter[];
  blacklist: FlowFilter[];
  matches: FlowPredicate;
  sinceNs: bigint | undefined;
}

const MAX_MESSAGE_BYTES = 256 * 1024;
/** Messages turned down in a row for the rate after which the client is closed (1008, policy violation). */
const MAX_REFUSED_MESSAGES = 50;
const POLICY_VIOLATION = 1008;
const BATCH_HEAD = Buffer.from('{"type":"batch","flows":[');
const COMMA = 0x2c; // ','

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
 *
 * Nor can a client stall the others by what it asks: its messages are rate
 * limited (a token bucket; a client that keeps on over the limit is closed
 * with 1008), one subscription at a time is prepared for it and a newer
 * subscribe supersedes one still being prepared, and the preparing (a
 * filtered map built from the held flows, a `since` replay) is done a chunk
 * per turn of the event loop. A client that closes or starts closing is
 * forgotten at once: its pending flows, its map lease, and, when it has
 * unread bytes queued, its socket.
 */
export function createStreamHub(options: StreamHubOptions) {
  const log = options.log ?? (() => {});
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const maxPending = options.maxPendingFlows ?? 10_000;
  const now = options.now ?? Date.now;
  const messageBurst = options.messageBurst ?? 20;
  const messagesPerSecond = options.messagesPerSecond ?? 10;
  const replayChunk = options.replayChunkEntries ?? 512;
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
      if (client.ws.readyState !== client.ws.OPEN) {
        // It sent its close frame (or was closed): what is still queued for it will not be read.
        forget(client);
        if (client.ws.bufferedAmount > 0) client.ws.terminate();
        continue;
      }
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
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
      return send(client, { type: 'error', error: `message: ${Array.isArray(decoded) ? 'a list' : `a JSON ${decoded === null ? 'null' : typeof decoded}`}, not an object; expected {"type":"subscribe",…}` });
    }
    const parsed = subscribeSchema.safeParse(decoded);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const error =
        issue?.code === 'unrecognized_keys'
          ? unknownKeyError(issue.keys[0] ?? '', 'field', 'message', ['type', 'namespace', 'whitelist', 'blacklist', 'since'])
          : (issue?.message ?? 'invalid message');
      return send(client, { type: 'error', error });
    }
    const message = parsed.data;
    const parsedNamespace = parseNamespace(message.namespace ?? 'all');
    if (!parsedNamespace.ok) return send(client, { type: 'error', error: parsedNamespace.error });
    const namespace = parsedNamespace.value;
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

    client.requested = { namespace, whitelist, blacklist, matches, sinceNs };
    if (!client.preparing) void prepareSubscriptions(client);
  }

  /** Whether a message may be taken now (the client's token bucket); over the limit it says so, and closes a client that keeps on. */
  function admitMessage(client: StreamClient): boolean {
    const nowMs = now();
    client.tokens = Math.min(messageBurst, client.tokens + (Math.max(0, nowMs - client.tokensAtMs) * messagesPerSecond) / 1000);
    client.tokensAtMs = nowMs;
    if (client.tokens >= 1) {
      client.tokens -= 1;
      client.refused = 0;
      return true;
    }
    client.refused++;
    if (client.refused === 1) {
      send(client, { type: 'error', error: `message rate: more than ${messageBurst} messages at once or ${messagesPerSecond} a second; messages are ignored until the rate drops` });
    } else if (client.refused >= MAX_REFUSED_MESSAGES) {
      client.ws.close(POLICY_VIOLATION, 'message rate over the limit');
      forget(client);
    }
    return false;
  }

  /** Prepares the client's requested subscriptions one at a time, the newest next, until none is left. */
  async function prepareSubscriptions(client: StreamClient): Promise<void> {
    client.preparing = true;
    try {
      while (client.requested !== undefined && !client.gone) {
        const request = client.requested;
        client.requested = undefined;
        try {
          await prepareSubscription(client, request);
        } catch (err) {
          if (err instanceof ServiceMapLimitError) {
            send(client, { type: 'error', error: err.message });
          } else {
            log(`stream: preparing a subscription failed: ${(err as Error).stack ?? String(err)}`);
            send(client, { type: 'error', error: `internal error: ${(err as Error).message}` });
          }
        }
      }
    } finally {
      client.preparing = false;
    }
  }

  /**
   * Leases the request's map and replays its `since` flows, a chunk per turn,
   * then puts it in effect in the turn the replay reached the newest held
   * flow (so the live flows carry on from there); gives up when a newer
   * request comes or the client goes.
   */
  async function prepareSubscription(client: StreamClient, request: SubscribeRequest): Promise<void> {
    const abandoned = () => client.gone || client.requested !== undefined;
    const { namespace, whitelist, blacklist, matches, sinceNs } = request;
    const filtered = whitelist.length > 0 || blacklist.length > 0 || sinceNs !== undefined;
    const key = filtered ? JSON.stringify({ whitelist, blacklist, since: sinceNs?.toString() }) : undefined;
    const lease = await options.serviceMaps.lease(key, matches, sinceNs, abandoned);
    if (!lease) return;
    const pending: StreamClient['pending'] = [];
    const pendingNs: bigint[] = [];
    if (sinceNs !== undefined) {
      const cursor = options.relay.heldFlowCursor({ sinceNs, matches: (flow) => (namespace === undefined || inNamespace(flow, namespace)) && matches(flow) });
      for (;;) {
        for (const held of cursor.read(replayChunk)) {
          pending.push(held.flowText ?? held.flow);
          pendingNs.push(held.timeNs);
        }
        if (cursor.done) break;
        await nextTurn();
        if (abandoned()) break;
      }
    }
    if (abandoned()) {
      lease.release();
      return;
    }
    client.subscription?.lease.release();
    client.subscription = { namespace, matches, lease, mapVersion: undefined };
    client.pending = pending;
    client.pendingNs = pendingNs;
    client.dropped = 0;
  }

  /** Drops everything the hub holds for a client that closed or is closing. */
  function forget(client: StreamClient): void {
    if (client.gone) return;
    client.gone = true;
    clients.delete(client);
    client.subscription?.lease.release();
    client.subscription = undefined;
    client.requested = undefined;
    client.pending = [];
    client.pendingNs = [];
  }

  return {
    /** Takes over an HTTP upgrade on `/api/v1/stream`; false for other paths. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      if (new URL(req.url ?? '/', 'http://api').pathname !== STREAM_PATH) return false;
      wss.handleUpgrade(req, socket, head, (ws) => {
        const client: StreamClient = {
          ws,
          subscription: undefined,
          pending: [],
          pendingNs: [],
          dropped: 0,
          requested: undefined,
          preparing: false,
          tokens: messageBurst,
          tokensAtMs: now(),
          refused: 0,
          gone: false,
        };
        clients.add(client);
        ws.on('message', (data, isBinary) => {
          if (client.gone || !admitMessage(client)) return;
          // Every input is meant to be answered by validation; this is the last line, so that a
          // message no check foresaw costs its sender an error, never the API process.
          try {
            subscribe(client, isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
          } catch (err) {
            log(`stream: a subscribe message failed: ${(err as Error).stack ?? String(err)}`);
            send(client, { type: 'error', error: 'message: internal error while handling it (the API logged it); the subscription is unchanged' });
          }
        });
        ws.on('close', () => forget(client));
        ws.on('error', (err) => log(`stream: client socket error: ${err.message}`));
      });
      return true;
    },
    get clientCount(): number {
      return clients.size;
    },
    /** Flows held for clients, not sent yet; subscriptions in effect and being prepared. */
    state(): { pendingFlows: number; subscriptions: number; preparing: number } {
      let pendingFlows = 0;
      let subscriptions = 0;
      let preparing = 0;
      for (const client of clients) {
        pendingFlows += client.pending.length;
        if (client.subscription) subscriptions++;
        if (client.preparing) preparing++;
      }
      return { pendingFlows, subscriptions, preparing };
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
