import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { killCgroupTree, removeCgroupTree } from './cgroups.ts';
import { BPF_PIN_ROOT, CGROUP_ROOT, NETNS_DIR, REPO_ROOT, RUN_DIR } from './paths.ts';
import { readLabState, type LabState } from './state.ts';
import { runCommand } from './systemCommand.ts';
import { isLabNetns } from './topology.ts';

const SUPERVISOR_STOP_MS = 30_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` still runs a lab program (a program from this repository, not a recycled pid). */
function isLabProcess(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(REPO_ROOT) || cmdline.includes('tycho');
  } catch {
    return false;
  }
}

function statePids(state: LabState): number[] {
  return [
    ...state.nodes.flatMap((n) => (n.agentPid ? [n.agentPid] : [])),
    ...(state.world.pid ? [state.world.pid] : []),
    ...(state.api?.pid ? [state.api.pid] : []),
    ...state.pods.flatMap((p) => p.pids),
  ];
}

function readStateLeniently(): LabState | undefined {
  try {
    return readLabState();
  } catch {
    return undefined;
  }
}

/** The pid of a running lab supervisor (not this process), if any. */
export function runningSupervisor(): number | undefined {
  const pid = readStateLeniently()?.supervisorPid;
  return pid !== undefined && pid !== process.pid && alive(pid) && isLabProcess(pid) ? pid : undefined;
}

/**
 * Removes everything a lab makes, whatever state it was left in: processes
 * (cgroup.kill on the lab cgroup tree, plus pids from state.json), the lab's
 * network namespaces (tycho-underlay, tycho-world, tycho-node-*, tycho-pod-*;
 * never other names), BPF pins under /sys/fs/bpf/tycho, cgroups under
 * /sys/fs/cgroup/unified/tycho and /run/tycho. Idempotent.
 */
export async function removeLabResources(log: (line: string) => void = () => undefined): Promise<void> {
  const state = readStateLeniently();
  if (existsSync(CGROUP_ROOT)) {
    log(`killing the processes in ${CGROUP_ROOT}`);
    await killCgroupTree(CGROUP_ROOT);
  }
  for (const pid of state ? statePids(state) : []) {
    if (pid !== process.pid && alive(pid) && isLabProcess(pid)) {
      log(`killing leftover lab process ${pid}`);
      process.kill(pid, 'SIGKILL');
    }
  }

  const namespaces = existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR).filter(isLabNetns) : [];
  if (namespaces.length > 0) log(`deleting ${namespaces.length} network namespace(s)`);
  // Pods first, nodes and the underlay last, so no veth outlives its peer namespace for long.
  const order = (name: string) => (name.startsWith('tycho-pod-') ? 0 : name.startsWith('tycho-node-') ? 1 : 2);
  for (const name of namespaces.sort((a, b) => order(a) - order(b))) {
    const result = await runCommand('ip', ['netns', 'del', name]);
    if (result.code !== 0 && existsSync(`${NETNS_DIR}/${name}`)) {
      throw new Error(`lab: cannot delete network namespace ${name}: ${result.stderr.trim()}`);
    }
  }

  if (existsSync(BPF_PIN_ROOT)) log(`removing pinned BPF objects under ${BPF_PIN_ROOT}`);
  rmSync(BPF_PIN_ROOT, { recursive: true, force: true });
  removeCgroupTree(CGROUP_ROOT);
  rmSync(RUN_DIR, { recursive: true, force: true });
}

/**
 * Takes the lab down: asks a running supervisor to stop (it deletes its pods
 * through CNI DEL and stops the agents), waits for it, then removes whatever
 * is left. Safe to call when no lab is up.
 */
export async function labDown(opts: { log?: (line: string) => void } = {}): Promise<void> {
  const log = opts.log ?? (() => undefined);
  const supervisor = runningSupervisor();
  if (supervisor !== undefined) {
    log(`stopping lab supervisor ${supervisor}`);
    process.kill(supervisor, 'SIGTERM');
    const deadline = Date.now() + SUPERVISOR_STOP_MS;
    while (alive(supervisor) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(supervisor)) {
      log(`supervisor ${supervisor} did not stop in ${SUPERVISOR_STOP_MS / 1000} s; killing it`);
      process.kill(supervisor, 'SIGKILL');
    }
  }
  await removeLabResources(log);
}
