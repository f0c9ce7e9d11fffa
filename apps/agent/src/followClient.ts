import { epochNsFromTimestamp, type GetFlowsResponse } from '@tycho/flow';
import type { AgentAddress } from './agentAddress.ts';
import { AgentRefusal, observeAgent, type ObserveStream } from './observeClient.ts';
import type { GetFlowsRequest } from './observeRequestSchema.ts';

export interface FollowHandlers {
  onResponse(response: GetFlowsResponse): void;
  /** The stream broke (`reason` names the node); the next attempt is `retryInMs` from now. */
  onLost?(reason: string, retryInMs: number): void;
  /**
   * A stream is open again. It resumes at `since`, the time of the newest
   * response received; undefined when none had arrived, so the request was sent as at first.
   */
  onResumed?(since: string | undefined): void;
}

export interface FollowOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

const DEFAULT_INITIAL_BACKOFF_MS = 200;
const DEFAULT_MAX_BACKOFF_MS = 5000;

/**
 * Follows one agent's flows (`request.follow`) across agent restarts and
 * dropped connections, as the API's relay does: a broken stream is reopened
 * with exponential backoff (capped at 5 s) asking for the flows since the
 * newest time received, and what that replays twice (the responses at exactly
 * that time) is recognised by uuid and skipped.
 *
 * `done` rejects when the first connection fails or the agent refuses the
 * request (nothing to resume; retrying would not help), and resolves on
 * `close()` or when the agent ends the stream itself (an `until` reached).
 */
export function followAgent(agent: AgentAddress, request: GetFlowsRequest, handlers: FollowHandlers, options: FollowOptions = {}): ObserveStream {
  const initialBackoffMs = options.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS;
  const maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  let stopped = false;
  let opened = false;
  let failures = 0;
  let current: ObserveStream | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  /** The newest response time received, and the keys of the responses at exactly that time. */
  let newest: { time: string; timeNs: bigint; keys: Set<string> } | undefined;
  let settle!: { resolve: () => void; reject: (err: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));

  function receive(response: GetFlowsResponse): void {
    if (stopped) return;
    const time = response.flow?.time ?? response.time;
    const timeNs = epochNsFromTimestamp(time);
    if (timeNs !== undefined) {
      const key = responseKey(response);
      if (!newest || timeNs > newest.timeNs) {
        newest = { time, timeNs, keys: new Set([key]) };
      } else if (timeNs === newest.timeNs) {
        if (newest.keys.has(key)) return;
        newest.keys.add(key);
      }
    }
    handlers.onResponse(response);
  }

  function connect(): void {
    const since = newest?.time;
    const stream = observeAgent(agent, since === undefined ? request : resumeRequest(request, since), {
      onOpen: () => {
        failures = 0;
        if (opened) handlers.onResumed?.(since);
        opened = true;
      },
      onResponse: receive,
    });
    current = stream;
    stream.done.then(
      () => settle.resolve(),
      (err: Error) => {
        if (stopped) return settle.resolve();
        if (!opened || err instanceof AgentRefusal) return settle.reject(err);
        const retryInMs = Math.min(maxBackoffMs, initialBackoffMs * 2 ** failures);
        failures = Math.min(failures + 1, 30);
        handlers.onLost?.(err.message, retryInMs);
        retryTimer = setTimeout(connect, retryInMs);
      },
    );
  }

  connect();
  return {
    done,
    close: () => {
      stopped = true;
      clearTimeout(retryTimer);
      current?.close();
      settle.resolve();
    },
  };
}

/** The request that picks a followed stream up at `since`: the same filters, a time instead of a count. */
function resumeRequest(request: GetFlowsRequest, since: string): GetFlowsRequest {
  const { number: _number, first: _first, ...rest } = request;
  return { ...rest, since, follow: true };
}

function responseKey(response: GetFlowsResponse): string {
  return response.flow ? response.flow.uuid : `lost|${response.lost_events.source}|${response.lost_events.num_events_lost}`;
}
