import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flowAt, testAgent, type TestAgent } from './agentTestSupport.ts';
import { repoRoot, tychoBin } from './labTestSupport.ts';

// The real `tycho` process with its stdout a pipe, as in `tycho observe … | wc -l`.

let socketDir: string;
let agents: TestAgent[];

beforeEach(async () => {
  socketDir = mkdtempSync(join(tmpdir(), 'tycho-cli-pipe-'));
  agents = ['node-1', 'node-2'].map((node) => testAgent(socketDir, node, 4095));
  for (const agent of agents) await agent.start();
});
afterEach(async () => {
  for (const agent of agents) await agent.stop();
  rmSync(socketDir, { recursive: true, force: true });
});

function spawnTycho(args: string[]): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [tychoBin, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ChildProcessByStdio<null, Readable, Readable>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function collect(stream: Readable): () => string {
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return () => text;
}

/** Reads the whole stream, pausing after every chunk: a reader slower than the writer, so output piles up in the pipe. */
function readSlowly(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      stream.pause();
      setTimeout(() => stream.resume(), 5);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

describe('tycho writing to a pipe', () => {
  it('delivers every line of a large output to a slow reader before exiting', async () => {
    const perNode = 4000;
    for (const [n, agent] of agents.entries()) {
      for (let i = 0; i < perNode; i++) agent.publish(flowAt(`node-${n + 1}`, i));
    }
    const child = spawnTycho(['observe', '--all', '-o', 'json', '--socket-dir', socketDir]);
    const stderr = collect(child.stderr);
    const [out, exit] = await Promise.all([readSlowly(child.stdout), exited(child)]);

    expect(stderr()).toBe('');
    expect(exit.code).toBe(0);
    const lines = out.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(2 * perNode);
    const uuids = new Set(lines.map((line) => (JSON.parse(line) as { flow: { uuid: string } }).flow.uuid));
    expect(uuids.size).toBe(2 * perNode);
  });

  it('exits quietly with 0 when the reader leaves early, as `| head -1` does', async () => {
    const child = spawnTycho(['observe', '--follow', '-o', 'json', '--socket-dir', socketDir]);
    const stderr = collect(child.stderr);
    const exit = exited(child);
    // Flows keep coming until tycho is gone, so it writes again after the reader left.
    let ms = 0;
    const publisher = setInterval(() => agents[0]?.publish(flowAt('node-1', (ms += 20))), 20);
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy();
      const { code, signal } = await exit;
      expect(stderr()).toBe('');
      expect({ code, signal }).toEqual({ code: 0, signal: null });
    } finally {
      clearInterval(publisher);
      child.kill();
    }
  });
});
