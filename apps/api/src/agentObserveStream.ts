import WebSocket from 'ws';
import { AgentRefusal, describeAgent, observeUrl, type AgentAddress, type GetFlowsRequest, type ObserveStream } from '@tycho/agent/client';
import type { Flow, GetFlowsResponse } from '@tycho/flow';

/** One GetFlowsResponse of an agent's `/v1/observe` message. */
export interface ObservedItem {
  response: GetFlowsResponse;
  /**
   * The flow's JSON text exactly as the agent sent it, so the API can pass it
   * on without serialising the flow again. Undefined for lost events, and for
   * messages laid out other than the agent lays them out (see below).
   */
  flowJson: string | undefined;
}

export type DecodedObserveMessage =
  | { kind: 'items'; items: ObservedItem[] }
  /** The agent refused the request (`{"error": …}`). */
  | { kind: 'refusal'; error: string }
  /** Not the observer protocol; `error` says what was wrong. */
  | { kind: 'invalid'; error: string };

const FLOW_ITEM = '{"flow":';
const NEXT_FLOW_ITEM = ',{"flow":';
const AFTER_FLOW = ',"node_name":';
const BETWEEN_NAMES = '","time":"';

/**
 * Decodes one `/v1/observe` message: a JSON array of GetFlowsResponse (a
 * batch), a single response, or an error.
 *
 * A batch as the agent writes it, `[{"flow":F,"node_name":"n","time":"t"},…]`
 * with no whitespace, is cut into its items and each flow `F` is parsed on its
 * own, which yields each flow's text at no extra cost. Each piece must parse
 * (F as a JSON object, the rest of the item as the canonical tail), and the
 * pieces, joined by the commas and brackets between them, are the whole
 * message; so the cut is exact and the message is valid JSON, as if parsed
 * whole. Anything else (lost-events items, other key orders or spacing) is
 * parsed whole, without flow texts.
 */
export function decodeObserveMessage(text: string): DecodedObserveMessage {
  const items = text.startsWith('[{"flow":') && text.endsWith('}]') ? cutBatch(text) : undefined;
  if (items) return { kind: 'items', items };
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { kind: 'invalid', error: `sent a message that is not JSON: ${text.slice(0, 120)}` };
  }
  if (isObject(message) && typeof message.error === 'string') return { kind: 'refusal', error: message.error };
  if (Array.isArray(message)) {
    const decoded: ObservedItem[] = [];
    for (const item of message as unknown[]) {
      if (!isResponse(item)) return { kind: 'invalid', error: `sent a batch with an item that is neither a flow nor lost events: ${JSON.stringify(item)?.slice(0, 120)}` };
      decoded.push({ response: item, flowJson: undefined });
    }
    return { kind: 'items', items: decoded };
  }
  if (isResponse(message)) return { kind: 'items', items: [{ response: message, flowJson: undefined }] };
  return { kind: 'invalid', error: `sent a message that is neither a flow nor lost events: ${text.slice(0, 120)}` };
}

/** The items of a batch in the agent's layout, each flow parsed from its own text; undefined if the message is laid out otherwise. */
function cutBatch(text: string): ObservedItem[] | undefined {
  const items: ObservedItem[] = [];
  const last = text.length - 1; // the closing ']'
  // `{"` never occurs inside a JSON string (a quote in a string is escaped), so each
  // `,{"flow":` is the start of an item or of a nested object; a nested one makes a piece fail to parse.
  for (let start = 1; ; ) {
    const next = text.indexOf(NEXT_FLOW_ITEM, start + FLOW_ITEM.length);
    const end = next < 0 ? last : next;
    const tail = text.lastIndexOf(AFTER_FLOW, end);
    if (tail <= start + FLOW_ITEM.length) return undefined;
    const nodeStart = tail + AFTER_FLOW.length + 1;
    const nodeEnd = text.indexOf(BETWEEN_NAMES, nodeStart);
    const timeStart = nodeEnd + BETWEEN_NAMES.length;
    const timeEnd = end - 2;
    // The rest of the item must be `,"node_name":"<node>","time":"<time>"}`, both strings without escapes.
    if (text.charCodeAt(nodeStart - 1) !== 34 || nodeEnd < 0 || timeStart > timeEnd || !text.startsWith('"}', timeEnd)) return undefined;
    if (!plainString(text, nodeStart, nodeEnd) || !plainString(text, timeStart, timeEnd)) return undefined;
    const flowJson = text.slice(start + FLOW_ITEM.length, tail);
    const flow = parseObject(flowJson);
    if (flow === undefined) return undefined;
    items.push({ response: { flow: flow as unknown as Flow, node_name: text.slice(nodeStart, nodeEnd), time: text.slice(timeStart, timeEnd) }, flowJson });
    if (next < 0) return items;
    start = next + 1;
  }
}

/** A JSON object's text parsed, or undefined when it is not JSON or not an object. */
function parseObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isObject(value) && !Array.isArray(value) ? value : undefined;
}

/** Whether `text[start, end)` holds no quote, backslash or control character: a JSON string's content as is. */
function plainString(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 34 || code === 92 || code < 32) return false;
  }
  return true;
}

export interface ObservedItemHandlers {
  onItem(item: ObservedItem): void;
  /** The connection is open and the request sent. */
  onOpen?(): void;
}

/**
 * Agent messages read but not yet handled, per agent, above which the relay
 * stops reading that agent's socket until it has caught up. Agents send up to
 * 1,000 flows a message; the agent stops reading its ring while its socket
 * holds 1 MiB unsent, so a relay that read only between handling messages
 * would keep each agent idle while it handled one, and itself idle while the
 * agent made the next.
 */
const MAX_QUEUED_MESSAGES = 8;

/**
 * The relay's follower of one agent's `/v1/observe`: `observeAgent`
 * (`@tycho/agent/client`) with the same request, states and errors, but
 * handing over each flow's text with it (`decodeObserveMessage`).
 *
 * Messages are read as they arrive and handled one per event-loop turn, in
 * order, so the socket is read (and the agent can go on sending) between
 * them; at MAX_QUEUED_MESSAGES unhandled the socket is paused. When the
 * stream ends, what was read is handled before `done` settles.
 */
export function observeAgentItems(agent: AgentAddress, request: GetFlowsRequest, handlers: ObservedItemHandlers): ObserveStream {
  const ws = new WebSocket(observeUrl(agent));
  let refusal: string | undefined;
  let closedByUs = false;
  const queue: string[] = [];
  let handling = false;
  const handleMessage = (text: string): void => {
    if (refusal !== undefined || closedByUs) return;
    const decoded = decodeObserveMessage(text);
    if (decoded.kind === 'items') {
      for (const item of decoded.items) handlers.onItem(item);
      return;
    }
    refusal = decoded.error;
    if (decoded.kind === 'invalid') {
      queue.length = 0;
      ws.resume();
      ws.close();
    }
  };
  const handleNext = (): void => {
    const text = queue.shift();
    if (text !== undefined) handleMessage(text);
    if (queue.length > 0) setImmediate(handleNext);
    else handling = false;
    if (queue.length < MAX_QUEUED_MESSAGES && ws.isPaused && ws.readyState === ws.OPEN) ws.resume();
  };
  /** Handles, now, whatever was read and not handled yet. */
  const handleQueued = (): void => {
    while (queue.length > 0) handleMessage(queue.shift()!);
  };
  const done = new Promise<void>((resolve, reject) => {
    ws.on('open', () => {
      ws.send(JSON.stringify(request));
      handlers.onOpen?.();
    });
    ws.on('message', (data) => {
      if (refusal !== undefined || closedByUs) return;
      queue.push(data.toString());
      if (queue.length >= MAX_QUEUED_MESSAGES) ws.pause();
      if (!handling) {
        handling = true;
        setImmediate(handleNext);
      }
    });
    ws.on('error', (err) => {
      handleQueued();
      reject(new Error(`${agent.node}: cannot observe through ${describeAgent(agent)}: ${err.message}`));
    });
    ws.on('close', (code) => {
      handleQueued();
      if (refusal !== undefined) reject(new AgentRefusal(`${agent.node}: ${refusal}`));
      else if (code === 1000 || code === 1005 || closedByUs) resolve();
      else reject(new Error(`${agent.node}: the agent closed the stream (code ${code})`));
    });
  });
  return {
    done,
    close: () => {
      closedByUs = true;
      queue.length = 0;
      ws.resume();
      ws.close();
    },
  };
}

function isResponse(value: unknown): value is GetFlowsResponse {
  return isObject(value) && (isObject(value.flow) || isObject(value.lost_events));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
