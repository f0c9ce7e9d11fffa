import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_ROOT } from './paths.ts';

function assertLabCgroup(dir: string): void {
  if (dir !== CGROUP_ROOT && !dir.startsWith(`${CGROUP_ROOT}/`)) {
    throw new Error(`lab: refusing to touch cgroup ${dir} outside ${CGROUP_ROOT}`);
  }
}

export function ensureCgroup(dir: string): void {
  assertLabCgroup(dir);
  mkdirSync(dir, { recursive: true });
}

/**
 * Starts `argv` as a member of cgroup `dir` from its first instruction: a
 * tiny shell writes its own pid to cgroup.procs, then execs the program (same
 * pid), so nothing the program forks can escape the cgroup. Detached, so a
 * Ctrl-C at the lab's terminal reaches the supervisor only.
 */
export function spawnInCgroup(
  dir: string,
  argv: readonly string[],
  opts: { stdio: StdioOptions; cwd?: string; env?: NodeJS.ProcessEnv },
): ChildProcess {
  ensureCgroup(dir);
  const script = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"';
  return spawn('sh', ['-c', script, 'sh', dir, ...argv], { ...opts, detached: true });
}

function populated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** Kills every process in the cgroup tree (cgroup.kill) and waits until it is empty. */
export async function killCgroupTree(dir: string, timeoutMs = 5000): Promise<void> {
  assertLabCgroup(dir);
  if (!existsSync(dir)) return;
  writeFileSync(join(dir, 'cgroup.kill'), '1');
  const deadline = Date.now() + timeoutMs;
  while (populated(dir)) {
    if (Date.now() > deadline) throw new Error(`lab: processes in ${dir} did not exit after cgroup.kill`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Removes an (empty) cgroup tree, children first. */
export function removeCgroupTree(dir: string): void {
  assertLabCgroup(dir);
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  }
  rmdirSync(dir);
}
