import WebSocket from 'ws';
import type { GetFlowsResponse, ObserveRequest } from '@tycho/flow';

export interface ObserveStream {
  /** Resolves when the agent ends the stream; rejects when it cannot be reached or refuses the request. */
  done: Promise<void>;
  close(): void;
}

/**
 * One agent's `/v1/observe` WebSocket over its unix socket: sends the request
 * and hands over each GetFlowsResponse.
 */
export function observeAgent(
  node: string,
  socketPath: string,
  request: ObserveRequest,
  onResponse: (response: GetFlowsResponse) => void,
): ObserveStream {
  const ws = new WebSocket(`ws+unix://${socketPath}:/v1/observe`);
  let refusal: string | undefined;
  const done = new Promise<void>((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify(request)));
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
      } else if (isObject(message) && (isObject(message.flow) || isObject(message.lost_events))) {
        onResponse(message as unknown as GetFlowsResponse);
      } else {
        refusal = `sent a message that is neither a flow nor lost events: ${data.toString().slice(0, 120)}`;
        ws.close();
      }
    });
    ws.on('error', (err) => reject(new Error(`${node}: cannot observe through ${socketPath}: ${err.message}`)));
    ws.on('close', (code) => {
      if (refusal !== undefined) reject(new Error(`${node}: ${refusal}`));
      else if (code === 1000 || code === 1005) resolve();
      else reject(new Error(`${node}: the agent closed the stream (code ${code})`));
    });
  });
  return { done, close: () => ws.close() };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
