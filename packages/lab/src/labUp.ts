import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { tailOfFd } from './fileTail.ts';
import { labDown, removeLabResources, runningSupervisor } from './cleanup.ts';
import { API_URL } from './labApi.ts';
import { LOG_DIR, DEFAULT_MANIFESTS, KUBECONFIG_FILE, LAB_DIR, REPO_ROOT, STATE_FILE, SUPERVISOR_LOG, SUPERVISOR_MAIN } from './paths.ts';
import { readLabState } from './state.ts';
import { LabSupervisor } from './supervisor.ts';

export interface LabUpOptions {
  /** Manifest files to apply; default: the shipped kube-dns and connectivity-check manifests. */
  manifests?: string[];
  /** Start the supervisor in the background and resolve once the lab is up. */
  detach?: boolean;
  log?: (line: string) => void;
}

const DETACHED_START_TIMEOUT_MS = 240_000;
const LOG_TAIL_LINES = 40;

function whereToLook(): string[] {
  return [
    'the lab is up: two nodes (tycho-node-1, tycho-node-2) running the connectivity-check workload',
    `KUBECONFIG=${KUBECONFIG_FILE}`,
    `kubectl:        export KUBECONFIG=${KUBECONFIG_FILE}; kubectl get pods -A   (the lab's Kubernetes API on https://127.0.0.1:6443)`,
    `Tycho UI: ${API_URL}   (service map and flows; REST and stream under ${API_URL}/api/v1)`,
    'flows:          npx tycho observe --follow      (every connection the eBPF programs saw)',
    'deployments:    npx tycho lab status',
    `lab state:      ${STATE_FILE}`,
    `logs:           ${LOG_DIR}/ (pods: <namespace>_<pod>.log, agents: agent-<node>.log, API: api.log, Kubernetes API: apiserver.log)`,
    'namespaces:     ip netns list',
  ];
}

/** Refuses to start over a live lab; otherwise clears what a crashed one left. */
async function prepare(log: (line: string) => void): Promise<void> {
  const supervisor = runningSupervisor();
  if (supervisor !== undefined) {
    throw new Error(`a lab is already running (supervisor pid ${supervisor}); run \`tycho lab down\` first`);
  }
  await removeLabResources((line) => log(`[lab] cleaning leftovers: ${line}`));
}

/**
 * Brings the lab up. In the foreground it runs the supervisor in this
 * process until SIGINT/SIGTERM, then takes the lab down. With `detach`, it
 * starts the supervisor as a background session leader (log in
 * /run/tycho/lab/supervisor.log) and resolves once pods are started and the
 * agents answer; if the lab fails to come up it rejects with the log's tail.
 */
export async function labUp(opts: LabUpOptions = {}): Promise<void> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const manifests = opts.manifests?.length ? opts.manifests : DEFAULT_MANIFESTS;
  await prepare(log);
  if (opts.detach) return startDetached(manifests, log);

  const lab = new LabSupervisor({ manifests, log });
  await lab.start();
  for (const line of whereToLook()) log(line);
  log('press Ctrl-C to stop the lab');
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  log('[lab] stopping');
  await lab.stop();
}

async function startDetached(manifests: readonly string[], log: (line: string) => void): Promise<void> {
  mkdirSync(LAB_DIR, { recursive: true });
  const writeFd = openSync(SUPERVISOR_LOG, 'a');
  // Kept open to read the log's tail even after a failed lab removed the file.
  const readFd = openSync(SUPERVISOR_LOG, 'r');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', SUPERVISOR_MAIN, ...manifests], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', writeFd, writeFd],
    });
    closeSync(writeFd);
    let exit: string | undefined;
    child.on('exit', (code, signal) => (exit = signal ?? `code ${code}`));
    child.unref();
    log(`[lab] supervisor started in the background (pid ${child.pid}), log: ${SUPERVISOR_LOG}`);

    const deadline = Date.now() + DETACHED_START_TIMEOUT_MS;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      let phase: string | undefined;
      try {
        phase = readLabState()?.phase;
      } catch {
        phase = undefined; // mid-write or removed: look again
      }
      if (phase === 'running') break;
      if (exit !== undefined || phase === 'failed' || Date.now() > deadline) {
        const reason = exit !== undefined ? `supervisor exited (${exit})` : phase === 'failed' ? 'lab failed' : `not up after ${DETACHED_START_TIMEOUT_MS / 1000} s`;
        const logTail = tailOfFd(readFd, LOG_TAIL_LINES);
        await labDown();
        throw new Error(`lab up: ${reason}; supervisor log (last lines):\n${logTail}`);
      }
    }
    for (const line of whereToLook()) log(line);
    log('stop it with: tycho lab down');
  } finally {
    closeSync(readFd);
  }
}
