import type { FlowFilter } from '@tycho/filters';
import { streamMessageSchema, type StreamMessage } from './apiSchemas.ts';

/**
 * The one live subscription: a WebSocket to `/api/v1/stream` that sends the
 * current subscription on every (re)connect and hands each validated batch
 * on. Reconnects with capped exponential backoff.
 */

export interface Subscription {
  namespace?: string;
  whitelist?: FlowFilter[];
  blacklist?: FlowFilter[];
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface StreamClientOptions {
  url: string;
  onBatch: (batch: Extract<StreamMessage, { type: 'batch' }>) => void;
  onConnection: (state: ConnectionState, detail?: string) => void;
  onOpen?: () => void;
  createSocket?: (url: string) => WebSocket;
  maxBackoffMs?: number;
}

export function createStreamClient(options: StreamClientOptions) {
  const createSocket = options.createSocket ?? ((url: string) => new WebSocket(url));
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  let socket: WebSocket | undefined;
  let subscription: Subscription | undefined;
  let backoffMs = 500;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  function send(): void {
    if (socket?.readyState === WebSocket.OPEN && subscription) socket.send(JSON.stringify({ type: 'subscribe', ...subscription }));
  }

  function connect(): void {
    if (closed) return;
    options.onConnection('connecting');
    const ws = createSocket(options.url);
    socket = ws;
    ws.onopen = () => {
      backoffMs = 500;
      options.onConnection('open');
      options.onOpen?.();
      send();
    };
    ws.onmessage = (event: MessageEvent) => {
      let data: unknown;
      try {
        data = JSON.parse(String(event.data));
      } catch {
        options.onConnection('open', 'the stream sent a message that is not JSON');
        return;
      }
      const parsed = streamMessageSchema.safeParse(data);
      if (!parsed.success) {
        options.onConnection('open', `unexpected stream message: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
        return;
      }
      if (parsed.data.type === 'error') options.onConnection('open', `the stream refused the subscription: ${parsed.data.error}`);
      else options.onBatch(parsed.data);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = undefined;
      if (closed) return;
      options.onConnection('closed', `stream closed; reconnecting in ${Math.round(backoffMs / 1000)} s`);
      retry = setTimeout(connect, backoffMs);
      backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
    };
  }

  connect();

  return {
    /** Replaces the subscription (sent now if connected, else on connect). */
    subscribe(next: Subscription): void {
      subscription = next;
      send();
    },
    close(): void {
      closed = true;
      if (retry) clearTimeout(retry);
      socket?.close();
      socket = undefined;
    },
  } as const;
}

export type StreamClient = ReturnType<typeof createStreamClient>;

/** `ws://host/api/v1/stream` for the page's origin. */
export function streamUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/stream`;
}
