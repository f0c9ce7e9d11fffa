import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readLabState } from '@tycho/lab';
import { isAlive, labNamespaces, repoRoot, tycho, tychoBin } from './labTestSupport.ts';

/*
 * `npm start` runs `tycho lab up` in the foreground: it prints where to look,
 * runs until Ctrl-C and cleans up on exit; after a crash, the next start
 * first removes what the crashed lab left behind.
 */

const READY_LINE = 'press Ctrl-C to stop the lab';

interface ForegroundLab {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startForeground(): ForegroundLab {
  const child = spawn(process.execPath, [tychoBin, 'lab', 'up'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForOutput(lab: ForegroundLab, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!lab.output().includes(text)) {
    if (lab.child.exitCode !== null) throw new Error(`tycho lab up exited early:\n${lab.output()}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" after ${timeoutMs} ms:\n${lab.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}



describe('tycho lab up in the foreground', () => {
  afterAll(async () => {
    await tycho(['lab', 'down'], 120_000);
  }, 150_000);

  it('after a crashed lab, starts clean, prints where to look, and Ctrl-C removes everything', async () => {
    const crashed = startForeground();
    await waitForOutput(crashed, READY_LINE, 240_000);
    const leftoverPids = readLabState()?.pods.flatMap((pod) => pod.pids) ?? [];
    expect(leftoverPids.length).toBeGreaterThan(0);
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    expect(leftoverPids.some(isAlive)).toBe(true);

    const lab = startForeground();
    await waitForOutput(lab, READY_LINE, 240_000);
    expect(lab.output()).toContain('cleaning leftovers');
    expect(lab.output()).toContain('npx tycho observe --follow');
    expect(lab.output()).toContain('KUBECONFIG=/run/tycho/lab/kubeconfig\n');
    expect(leftoverPids.filter(isAlive)).toEqual([]);
    const pids = readLabState()?.pods.flatMap((pod) => pod.pids) ?? [];

    lab.child.kill('SIGINT');
    expect(await lab.exited).toBe(0);
    expect(await labNamespaces()).toEqual([]);
    expect(existsSync('/sys/fs/bpf/tycho')).toBe(false);
    expect(existsSync('/sys/fs/cgroup/unified/tycho')).toBe(false);
    expect(existsSync('/run/tycho')).toBe(false);
    expect(pids.filter(isAlive)).toEqual([]);
  }, 600_000);
});
