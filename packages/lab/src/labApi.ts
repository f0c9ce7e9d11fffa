import { closeSync, mkdirSync, openSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawnInCgroup } from './cgroups.ts';
import { stopChild } from './stopChild.ts';
import { API_CGROUP, API_MAIN, API_PORT, KUBECONFIG_FILE, LOG_DIR, REPO_ROOT, RUN_DIR } from './paths.ts';

const READY_TIMEOUT_MS = 30_000;
const MAX_RESTART_DELAY_MS = 5_000;

export const API_LOG = join(LOG_DIR, 'api.log');
export const API_URL = `http://localhost:${API_PORT}`;

function healthy(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: API_PORT, path: '/healthz', timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * The lab's API and web app (apps/api), kept running in the root network
 * namespace on :32321: it finds the agents by their sockets under
 * /run/tycho, lives in the cgroup /sys/fs/cgroup/unified/tycho/api (so
 * `lab down` kills it with everything else) and is restarted when it dies.
 */
export class LabApi {
  private child: ChildProcess | undefined;
  private stopping = false;
  restarts = 0;

  constructor(
    private readonly log: (line: string) => void,
    private readonly onPidChange: () => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the API; resolves when it answers /healthz, or warns (and keeps it restarting) if it does not. */
  async start(): Promise<void> {
    this.spawn();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (await healthy()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    this.log(`the API did not answer on ${API_URL}/healthz within ${READY_TIMEOUT_MS / 1000} s; see ${API_LOG} (it keeps being restarted)`);
  }

  private spawn(): void {
    mkdirSync(LOG_DIR, { recursive: true });
    const logFd = openSync(API_LOG, 'a');
    // A 64 MiB semi-space: the relay's short-lived flows die in fewer scavenges (about -15% CPU per flow, docs/benchmarks.md).
    const argv = [process.execPath, '--max-semi-space-size=64', '--import', 'tsx', API_MAIN, '--port', String(API_PORT), '--host', '0.0.0.0', '--socket-dir', RUN_DIR, '--kubeconfig', KUBECONFIG_FILE];
    const child = spawnInCgroup(API_CGROUP, argv, { stdio: ['ignore', logFd, logFd], cwd: REPO_ROOT });
    closeSync(logFd);
    this.child = child;
    this.onPidChange();
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.onPidChange();
      if (this.stopping) return;
      this.restarts++;
      const delay = Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** Math.min(this.restarts - 1, 4));
      this.log(`the API exited (${signal ?? `code ${code}`}); restart ${this.restarts} in ${delay} ms (see ${API_LOG})`);
      setTimeout(() => {
        if (!this.stopping) this.spawn();
      }, delay);
    });
  }

  /** Stops the API (SIGTERM, then SIGKILL after a grace period). */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child) await stopChild(child, graceMs);
  }
}
