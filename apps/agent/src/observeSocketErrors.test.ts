// Found by agentApiFuzz.test.ts: an observe socket refused for its `encoding` parameter had no
// 'error' listener, so an oversized message on it (ws: "Max payload size exceeded") was thrown
// and ended the agent. Here the agent runs in a child process, so that such a throw shows as
// its exit rather than as an error of the test runner.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const AGENT_API = `
import { createApiServer, Observer } from '@tycho/agent';
const api = createApiServer({ observer: new Observer({ nodeName: 'node-1', ringCapacity: 15 }), endpoints: { register() { throw new Error('none'); }, deregister() {}, list: () => [] } });
await api.listen(process.argv[1]);
process.stderr.write('listening\\n');
`;

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function status(socketPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path: '/v1/status', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

describe('an observe socket the agent refuses', () => {
  it('survives an oversized message sent before it closes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tycho-observe-errors-'));
    const socketPath = join(dir, 'agent.sock');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', AGENT_API, socketPath], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      while (!stderr.includes('listening')) {
        if (child.exitCode !== null) throw new Error(stderr);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const ws = new WebSocket(`ws+unix://${socketPath}:/v1/observe?encoding=bogus`);
      ws.on('error', () => {});
      await new Promise<void>((resolve) => ws.once('open', () => resolve()));
      ws.send('x'.repeat(128 * 1024));
      await new Promise((resolve) => ws.once('close', resolve));
      // The agent reads the frame after the client sees the close; give a throw the moment it takes to end the process.
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      expect(child.exitCode, stderr).toBeNull();
      expect(await status(socketPath).catch((err: Error) => err.message)).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
