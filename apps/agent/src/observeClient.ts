import WebSocket from 'ws';
import type { GetFlowsResponse } from '@tycho/flow';
import { describeAgent, observeUrl, type AgentAddress } from './agentAddress.ts';
import type { GetFlowsRequest } from './observeRequestSchema.ts';

export interface ObserveStream {
  /** Resolves when the agent ends the stream; rejects when it cannot be reached, refuses the request or drops the connection. */
  done: Promise<void>;
  close(): void;
}

export interface ObserveHandlers {
  onResponse(response: GetFlowsResponse): void;
  /** The connection is open and the request sent. */
  onOpen?(): void;
}

/**
 * One agent's `/v1/observe` WebSocket (unix socket or TCP): sends the
 * request and hands over each GetFlowsResponse, whether the agent sent it
 * alone or in a batch (a JSON array of them, as agents do now).
 */
export function observeAgent(agent: AgentAddress, request: GetFlowsRequest, handlers: ObserveHandlers | ((response: GetFlowsResponse) => void)): ObserveStream {
  const { onResponse, onOpen } = typeof handlers === 'function' ? { onResponse: handlers, onOpen: undefined } : handlers;
  const node = agent.node;
  const ws = new WebSocket(observeUrl(agent));
  let refusal: string | undefined;
  let closedByUs = false;
  const done = new Promise<void>((resolve, reject) => {
    ws.on('open', () => {
      ws.send(JSON.stringify(request));
      onOpen?.();
    });
    ws.on('message', (data) => {
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        refusal = `sent a message that is not JSON: ${data.toString().slice(0, 120)}`;
        ws.close();
        return;
      }
      if (isObject(message) && typeof message.error === 'string') {
        refusal = message.error;
      } else if (Array.isArray(message)) {
        // A batch: each item is one GetFlowsResponse.
        for (const item of message as unknown[]) {
          if (!isResponse(item)) {
            refusal = `sent a batch with an item that is neither a flow nor lost events: ${JSON.stringify(item)?.slice(0, 120)}`;
            ws.close();
            return;
          }
          onResponse(item);
        }
      } else if (isResponse(message)) {
        onResponse(message);
      } else {
        refusal = `sent a message that is neither a flow nor lost events: ${data.toString().slice(0, 120)}`;
        ws.close();
      }
    });
    ws.on('error', (err) => reject(new Error(`${node}: cannot observe through ${describeAgent(agent)}: ${err.message}`)));
    ws.on('close', (code) => {
      if (refusal !== undefined) reject(new AgentRefusal(`${node}: ${refusal}`));
      else if (code === 1000 || code === 1005 || closedByUs) resolve();
      else reject(new Error(`${node}: the agent closed the stream (code ${code})`));
    });
  });
  return {
    done,
    close: () => {
      closedByUs = true;
      ws.close();
    },
  };
}

/** The agent answered, but refused the request or spoke something other than the observer protocol. */
export class AgentRefusal extends Error {
  override readonly name = 'AgentRefusal';
}

function isResponse(value: unknown): value is GetFlowsResponse {
  return isObject(value) && (isObject(value.flow) || isObject(value.lost_events));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
