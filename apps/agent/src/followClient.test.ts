import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GetFlowsResponse } from '@tycho/flow';
import { unixAgent } from './agentAddress.ts';
import { followAgent } from './followClient.ts';
import { AgentRefusal } from './observeClient.ts';

let dir: string;
let socketPath: string;
let server: Server;
let wss: WebSocketServer;
/** What each connection asked for, in order. */
let requests: unknown[];
/** Scripted answer per connection, by its index. */
let answer: (ws: WebSocket, index: number) => void;

function response(second: number, uuid = `flow-${second}`): GetFlowsResponse {
  const time = new Date(Date.UTC(2024, 0, 1) + second * 1000).toISOString();
  return { flow: { time, uuid, verdict: 'FORWARDED', Type: 'L3_L4', node_name: 'node-1', event_type: { type: 4 } }, node_name: 'node-1', time };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-follow-'));
  socketPath = join(dir, 'agent.sock');
  requests = [];
  wss = new WebSocketServer({ noServer: true });
  server = createServer();
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => {
    ws.once('message', (data) => {
      requests.push(JSON.parse(data.toString()));
      answer(ws, requests.length - 1);
    });
  }));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});
afterEach(async () => {
  for (const client of wss.clients) client.terminate();
  wss.close();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('followAgent', () => {
  it('resumes a broken stream at the newest time received and skips what it replays', async () => {
    answer = (ws, index) => {
      if (index === 0) {
        ws.send(JSON.stringify([response(1), response(2), response(2, 'flow-2-twin')]));
        setTimeout(() => ws.terminate(), 20);
      } else {
        ws.send(JSON.stringify([response(2), response(2, 'flow-2-twin'), response(3)]));
      }
    };
    const received: string[] = [];
    const lost: string[] = [];
    const resumedAt: (string | undefined)[] = [];
    const stream = followAgent(
      unixAgent('node-1', socketPath),
      { follow: true, number: 5, whitelist: [{ verdict: ['FORWARDED'] }] },
      {
        onResponse: (r) => received.push(r.flow!.uuid),
        onLost: (reason) => lost.push(reason),
        onResumed: (since) => resumedAt.push(since),
      },
      { initialBackoffMs: 10 },
    );
    for (let waited = 0; received.length < 4 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    stream.close();
    await stream.done;

    expect(received).toEqual(['flow-1', 'flow-2', 'flow-2-twin', 'flow-3']);
    expect(requests).toEqual([
      { follow: true, number: 5, whitelist: [{ verdict: ['FORWARDED'] }] },
      { follow: true, since: '2024-01-01T00:00:02.000Z', whitelist: [{ verdict: ['FORWARDED'] }] },
    ]);
    expect(lost).toEqual(['node-1: the agent closed the stream (code 1006)']);
    expect(resumedAt).toEqual(['2024-01-01T00:00:02.000Z']);
  });

  it('gives up on a request the agent refuses instead of retrying it', async () => {
    answer = (ws) => ws.send(JSON.stringify({ error: 'invalid observe request: since: expected an RFC 3339 time' }), () => ws.close(1008));
    const lost: string[] = [];
    const stream = followAgent(unixAgent('node-1', socketPath), { follow: true }, { onResponse: () => {}, onLost: (reason) => lost.push(reason) });
    await expect(stream.done).rejects.toBeInstanceOf(AgentRefusal);
    expect(lost).toEqual([]);
  });

  it('ends without reconnecting when the agent ends the stream itself', async () => {
    answer = (ws) => ws.send(JSON.stringify([response(1)]), () => ws.close(1000, 'done'));
    const lost: string[] = [];
    const stream = followAgent(unixAgent('node-1', socketPath), { follow: true, until: '2024-01-01T00:00:01Z' }, { onResponse: () => {}, onLost: (reason) => lost.push(reason) });
    await stream.done;
    expect(lost).toEqual([]);
    expect(requests).toHaveLength(1);
  });
});
