import WebSocket from 'ws';
import {
  AgentRefusal,
  describeAgent,
  INTERNED_ENDPOINTS,
  OBSERVE_ENCODING_PARAM,
  observeUrl,
  type AgentAddress,
  type GetFlowsRequest,
  type ObserveStream,
} from '@tycho/agent/client';
import type { Flow, GetFlowsResponse } from '@tycho/flow';
import { InternedEndpoints } from './internedEndpoints.ts';

/** One GetFlowsResponse of an agent's `/v1/observe` message. */
export interface ObservedItem {
  response: GetFlowsResponse;
  /**
   * The flow's JSON text exactly as the agent sent it (interned: with the
   * endpoints' texts spliced back, the text the plain encoding carries), so
   * the API can pass it on without serialising the flow again. Undefined for
   * lost events, and for messages laid out other than the agent lays them out
   * (see below).
   */
  flowJson: string | undefined;
  /**
   * The same text as bytes (UTF-8), in pieces: views of the agent's message
   * and, interned, the endpoints' bytes. The stream hub builds its batches
   * from them without encoding the text again. Undefined when `flowJson` is,
   * and for messages that are not all ASCII (where the text's offsets are not
   * the bytes' offsets).
   */
  flowBytes: Uint8Array[] | undefined;
}

export type DecodedObserveMessage =
  | { kind: 'items'; items: ObservedItem[] }
  /** Endpoint definitions of the interned encoding, now in the connection's table. */
  | { kind: 'definitions' }
  /** The agent refused the request (`{"error": …}`). */
  | { kind: 'refusal'; error: string }
  /** Not the observer protocol; `error` says what was wrong. */
  | { kind: 'invalid'; error: string };

const FLOW_ITEM = '{"flow":';
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
 *
 * With `endpoints` (a connection that asked for the interned encoding), a
 * definitions message goes into that table, and flows that refer to
 * endpoints by id get them back, in the flow and in its text. A message is
 * taken whole or not at all: a bad definition or ref makes it invalid.
 *
 * With `bytes`, the message as it arrived, each cut flow also gets its bytes
 * (`flowBytes`) when the message is all ASCII.
 */
export function decodeObserveMessage(text: string, endpoints?: InternedEndpoints, bytes?: Uint8Array): DecodedObserveMessage {
  // A plain Uint8Array view, not a Buffer: its subarrays (several per flow) cost less to make.
  const ascii = bytes !== undefined && bytes.length === text.length ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : undefined;
  const items = text.startsWith('[{"flow":') && text.endsWith('}]') ? cutBatch(text, ascii) : undefined;
  if (items) return endpoints ? resolved(items, endpoints) : { kind: 'items', items };
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { kind: 'invalid', error: `sent a message that is not JSON: ${text.slice(0, 120)}` };
  }
  if (isObject(message) && typeof message.error === 'string') return { kind: 'refusal', error: message.error };
  if (isObject(message) && ('endpoints' in message || 'reset_endpoints' in message)) {
    if (!endpoints) return { kind: 'invalid', error: `sent endpoint definitions, which were not asked for: ${text.slice(0, 120)}` };
    const error = endpoints.define(message);
    return error === undefined ? { kind: 'definitions' } : { kind: 'invalid', error };
  }
  const decoded: ObservedItem[] = [];
  if (Array.isArray(message)) {
    for (const item of message as unknown[]) {
      if (!isResponse(item)) return { kind: 'invalid', error: `sent a batch with an item that is neither a flow nor lost events: ${JSON.stringify(item)?.slice(0, 120)}` };
      decoded.push({ response: item, flowJson: undefined, flowBytes: undefined });
    }
  } else if (isResponse(message)) {
    decoded.push({ response: message, flowJson: undefined, flowBytes: undefined });
  } else {
    return { kind: 'invalid', error: `sent a message that is neither a flow nor lost events: ${text.slice(0, 120)}` };
  }
  return endpoints ? resolved(decoded, endpoints) : { kind: 'items', items: decoded };
}

/** The items with their flows' endpoint refs resolved, or what is wrong with the first that cannot be. */
function resolved(items: ObservedItem[], endpoints: InternedEndpoints): DecodedObserveMessage {
  for (const item of items) {
    const flow = item.response.flow;
    if (!flow) continue;
    const whole = endpoints.resolve(flow, item.flowJson, item.flowBytes?.[0]);
    if (!whole.ok) return { kind: 'invalid', error: whole.error };
    item.flowJson = whole.flowJson;
    item.flowBytes = whole.flowBytes;
  }
  return { kind: 'items', items };
}

/**
 * The items of a batch in the agent's layout, each flow parsed from its own
 * text (and given its bytes from `ascii`, the message's bytes, one per
 * character); undefined if the message is laid out otherwise.
 */
function cutBatch(text: string, ascii: Uint8Array | undefined): ObservedItem[] | undefined {
  const items: ObservedItem[] = [];
  const last = text.length - 1; // the closing ']'
  // `{"` never occurs inside a JSON string (a quote in a string is escaped), so each
  // `,{"flow":` is the start of an item or of a nested object; a nested one makes a piece fail to parse.
  for (let start = 1; ; ) {
    const next = nextFlowItem(text, start + FLOW_ITEM.length);
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
    const flowBytes = ascii ? [ascii.subarray(start + FLOW_ITEM.length, tail)] : undefined;
    items.push({ response: { flow: flow as unknown as Flow, node_name: text.slice(nodeStart, nodeEnd), time: text.slice(timeStart, timeEnd) }, flowJson, flowBytes });
    if (next < 0) return items;
    start = next + 1;
  }
}

/**
 * `text.indexOf(',{"flow":', from)`, found by searching for FLOW_ITEM: a
 * pattern that starts with `,` makes V8 stop at every comma, and costs
 * about three times more.
 */
function nextFlowItem(text: string, from: number): number {
  for (let at = text.indexOf(FLOW_ITEM, from + 1); at >= 0; at = text.indexOf(FLOW_ITEM, at + 1)) {
    if (text.charCodeAt(at - 1) === 44 /* , */) return at - 1;
  }
  return -1;
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
 * handing over each flow's text with it (`decodeObserveMessage`). It asks
 * for the interned-endpoints encoding; an agent that does not know it
 * ignores the question and sends plain batches, which are taken as they are.
 *
 * Messages are read as they arrive and handled one per event-loop turn, in
 * order, so the socket is read (and the agent can go on sending) between
 * them; at MAX_QUEUED_MESSAGES unhandled the socket is paused. When the
 * stream ends, what was read is handled before `done` settles.
 */
export function observeAgentItems(agent: AgentAddress, request: GetFlowsRequest, handlers: ObservedItemHandlers): ObserveStream {
  const ws = new WebSocket(`${observeUrl(agent)}?${OBSERVE_ENCODING_PARAM}=${INTERNED_ENDPOINTS}`);
  const endpoints = new InternedEndpoints();
  let refusal: string | undefined;
  let closedByUs = false;
  /** Messages read and not handled yet: their text, and their bytes as they arrived. */
  const queue: { text: string; bytes: Uint8Array | undefined }[] = [];
  let handling = false;
  const handleMessage = ({ text, bytes }: { text: string; bytes: Uint8Array | undefined }): void => {
    if (refusal !== undefined || closedByUs) return;
    const decoded = decodeObserveMessage(text, endpoints, bytes);
    if (decoded.kind === 'items') {
      for (const item of decoded.items) handlers.onItem(item);
      return;
    }
    if (decoded.kind === 'definitions') return;
    refusal = decoded.error;
    if (decoded.kind === 'invalid') {
      queue.length = 0;
      ws.resume();
      ws.close();
    }
  };
  const handleNext = (): void => {
    const message = queue.shift();
    if (message !== undefined) handleMessage(message);
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
      queue.push({ text: data.toString(), bytes: Buffer.isBuffer(data) ? data : undefined });
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
