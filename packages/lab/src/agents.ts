import { request } from 'node:http';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { tailOfFile } from './fileTail.ts';
import { stopChild } from './stopChild.ts';
import { NODE_UPLINK, type LabNode } from './nodes.ts';
import { spawnInCgroup } from './cgroups.ts';
import { AGENT_METRICS_PORT } from './labPrometheus.ts';
import { AGENT_MAIN, agentSocket, bpfPinDir, LOG_DIR, NODES_KUBECONFIG_FILE, nodeCgroup, nodeRunDir, REPO_ROOT } from './paths.ts';
import { inNetns } from './systemCommand.ts';

const READY_TIMEOUT_MS = 60_000;
const RESTART_DELAY_MS = 1_000;
/** Crashes before the first answer after which starting the agent is given up. */
const STARTUP_CRASH_LIMIT = 3;
/** The seed's Hubble metrics option string, verbatim. */
export const LAB_METRICS =
  'dns:query;ignoreAAAA;destinationContext=pod-short,drop:sourceContext=pod;destinationContext=pod,tcp,flow,port-distribution,icmp,http';

export function agentLogFile(node: string): string {
  return join(LOG_DIR, `agent-${node}.log`);
}

/** `GET /v1/status` on the agent socket; resolves with the body when it answers 200. */
export function agentStatus(socketPath: string, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/v1/status', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`agent answered ${res.statusCode}: ${body}`));
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`agent status is not JSON: ${body.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * One node's agent, kept running: started in the node's namespace and
 * cgroup with the flags of docs/contracts.md, restarted when it dies.
 */
export class NodeAgent {
  private child: ChildProcess | undefined;
  private stopping = false;
  restarts = 0;

  constructor(
    readonly node: LabNode,
    private readonly log: (line: string) => void,
    private readonly onPidChange: () => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get socketPath(): string {
    return agentSocket(this.node.name);
  }

  /** Starts the agent and waits until it answers on its socket. */
  async start(): Promise<void> {
    this.spawn();
    await this.waitUntilAnswering(READY_TIMEOUT_MS);
  }

  private spawn(): void {
    const name = this.node.name;
    mkdirSync(nodeRunDir(name), { recursive: true });
    mkdirSync(LOG_DIR, { recursive: true });
    const logFd = openSync(agentLogFile(name), 'a');
    const argv = inNetns(this.node.netns, [
      process.execPath,
      '--import',
      'tsx',
      AGENT_MAIN,
      '--node',
      name,
      '--socket',
      agentSocket(name),
      '--pin-dir',
      bpfPinDir(name),
      '--state-dir',
      nodeRunDir(name),
      // The API server as the node namespace reaches it (the underlay gateway).
      '--kubeconfig',
      NODES_KUBECONFIG_FILE,
      '--metrics',
      LAB_METRICS,
      '--metrics-listen',
      `${this.node.ip}:${AGENT_METRICS_PORT}`,
      // Every pod and host-network process of the node runs below this cgroup.
      '--cgroup',
      nodeCgroup(name),
      // NodePort/ExternalIPs/LoadBalancer traffic from the underlay is load-balanced per packet on it.
      '--lb-device',
      NODE_UPLINK,
    ]);
    const child = spawnInCgroup(nodeCgroup(name), argv, { stdio: ['ignore', logFd, logFd], cwd: REPO_ROOT });
    closeSync(logFd);
    this.child = child;
    this.onPidChange();
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.log(`agent on ${name} exited (${signal ?? `code ${code}`}); restarting (see ${agentLogFile(name)})`);
      setTimeout(() => {
        if (!this.stopping) this.spawn();
      }, RESTART_DELAY_MS);
    });
  }

  private async waitUntilAnswering(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError = 'not started';
    while (Date.now() < deadline) {
      if (this.restarts >= STARTUP_CRASH_LIMIT) {
        lastError = `it exited ${this.restarts} times`;
        break;
      }
      try {
        await agentStatus(this.socketPath);
        return;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const logTail = tailOfFile(agentLogFile(this.node.name), 15);
    throw new Error(
      `agent on ${this.node.name} did not answer GET /v1/status on ${this.socketPath} (${lastError}); its log ends with:\n${logTail}`,
    );
  }

  /** Stops the agent (SIGTERM, then SIGKILL after a grace period). */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child) await stopChild(child, graceMs);
  }
}
