import type { Flow } from './flow.ts';

/**
 * The observer's wire types (Hubble's `observer.GetFlows*`), as JSON.
 * Agents answer `ObserveRequest`s on their `/v1/observe` WebSocket with a
 * stream of `GetFlowsResponse`s, sent in batches (one JSON array per
 * WebSocket message).
 */

/** What a GetFlows call asks for. Times are RFC 3339 timestamps. */
export interface ObserveRequest {
  /** Last N flows (or first N with `first`); without it, everything in range. */
  number?: number;
  first?: boolean;
  /** Keep the stream open and send new flows as they are observed. */
  follow?: boolean;
  since?: string;
  until?: string;
}

export const LOST_EVENT_SOURCES = [
  'UNKNOWN_LOST_EVENT_SOURCE',
  'PERF_EVENT_RING_BUFFER',
  'OBSERVER_EVENTS_QUEUE',
  'HUBBLE_RING_BUFFER',
] as const;
export type LostEventSource = (typeof LOST_EVENT_SOURCES)[number];

export interface LostEvents {
  source: LostEventSource;
  num_events_lost: number;
  /** The CPU whose buffer overflowed; absent when the count is not per CPU. */
  cpu?: number;
}

interface ResponseEnvelope {
  node_name: string;
  time: string;
}

export type GetFlowsResponse =
  | (ResponseEnvelope & { flow: Flow; lost_events?: never })
  | (ResponseEnvelope & { lost_events: LostEvents; flow?: never });

/** Sent on the WebSocket instead of responses when a request cannot be served. */
export interface ObserveError {
  error: string;
}

/** `GET /v1/status` of an agent. */
export interface ObserverStatus {
  node_name: string;
  num_flows: number;
  max_flows: number;
  seen_flows: number;
  uptime_ns: number;
  lost_events: number;
}
