import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flowAt, testAgent, type TestAgent } from './agentTestSupport.ts';
import { runObserve } from './observeCommand.ts';

let socketDir: string;
let agent: TestAgent;

beforeEach(async () => {
  socketDir = mkdtempSync(join(tmpdir(), 'tycho-cli-follow-'));
  agent = testAgent(socketDir, 'node-1');
  await agent.start();
});
afterEach(async () => {
  await agent.stop();
  rmSync(socketDir, { recursive: true, force: true });
});

/** How a running `runObserve` ended, once it has. */
let ended: string | undefined;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (ended !== undefined) throw new Error(`tycho observe ${ended} while waiting for ${what}`);
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function publishRange(from: number, to: number): void {
  for (let i = from; i < to; i++) agent.publish(flowAt('node-1', i * 10));
}

describe('tycho observe --follow', () => {
  it('reconnects to a restarted agent and prints every flow exactly once', async () => {
    let out = '';
    let err = '';
    const stop = new AbortController();
    const printedUuids = () => out.split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { flow: { uuid: string } }).flow.uuid);
    const observing = runObserve(
      { follow: true, last: 1000, output: 'json', socketDir },
      { stdout: (text) => (out += text), stderr: (text) => (err += text), stopSignal: stop.signal, reconnect: { initialBackoffMs: 20, maxBackoffMs: 100 } },
    );
    ended = undefined;
    observing.then(
      () => (ended = 'returned'),
      (error: Error) => (ended = `failed (${error.message})`),
    );

    publishRange(0, 50);
    // The newest time before the restart is shared by two flows: the resumed stream replays both.
    agent.publish({ ...flowAt('node-1', 490), uuid: 'node-1-490-twin' });
    await until(() => printedUuids().length === 51, 'the flows before the restart');

    await agent.stop();
    publishRange(50, 80);
    await agent.start();
    await until(() => err.includes('reconnected'), 'the reconnect');
    publishRange(80, 100);
    await until(() => printedUuids().length >= 101, 'the flows after the restart');
    stop.abort();
    await observing;

    const expected = ['node-1-490-twin', ...Array.from({ length: 100 }, (_, i) => `node-1-${i * 10}`)].sort();
    expect(printedUuids().sort()).toEqual(expected);
    expect(err).toMatch(/node-1: the agent closed the stream \(code 1006\); reconnecting in \d+ ms/);
    expect(err).toContain('node-1: reconnected, resuming from 2024-01-01T00:20:00.490Z');
  });

  it('fails as before when no agent answers the first time, without retrying', async () => {
    await agent.stop();
    writeFileSync(join(socketDir, 'node-1', 'agent.sock'), '');
    let err = '';
    await expect(runObserve({ follow: true, output: 'json', socketDir }, { stdout: () => {}, stderr: (text) => (err += text) })).rejects.toThrow('no agent answered');
    expect(err).toContain('node-1: cannot observe through');
    expect(err).not.toContain('reconnecting');
  });
});
