import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnInCgroup } from './cgroups.ts';
import { stopChild } from './stopChild.ts';
import { REPO_ROOT } from './paths.ts';

const MAX_RESTART_DELAY_MS = 5_000;

/**
 * A lab process kept running: spawned in its cgroup under the lab's (so
 * `lab down` kills it), its output appended to `logFile`, restarted with a
 * growing delay whenever it exits until `stop()`.
 */
export class KeptProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  restarts = 0;

  constructor(
    private readonly opts: {
      /** What the process is, for log lines. */
      readonly name: string;
      readonly cgroup: string;
      readonly argv: readonly string[];
      readonly logFile: string;
      readonly log: (line: string) => void;
      readonly onPidChange?: () => void;
    },
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.stopping = false;
    mkdirSync(dirname(this.opts.logFile), { recursive: true });
    const logFd = openSync(this.opts.logFile, 'a');
    const child = spawnInCgroup(this.opts.cgroup, this.opts.argv, { stdio: ['ignore', logFd, logFd], cwd: REPO_ROOT });
    closeSync(logFd);
    this.child = child;
    this.opts.onPidChange?.();
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.opts.onPidChange?.();
      if (this.stopping) return;
      this.restarts++;
      const delay = Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** Math.min(this.restarts - 1, 5));
      this.opts.log(`${this.opts.name} exited (${signal ?? `code ${code}`}); restart ${this.restarts} in ${delay} ms (see ${this.opts.logFile})`);
      setTimeout(() => {
        if (!this.stopping) this.start();
      }, delay);
    });
  }

  /** Stops it (SIGTERM, then SIGKILL after `graceMs`) and keeps it stopped. */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child) await stopChild(child, graceMs);
  }
}
