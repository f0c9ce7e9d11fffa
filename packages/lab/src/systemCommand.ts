import { NETNS_DIR } from './paths.ts';
import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program with an argument array (no shell) and collects its output. */
export function runCommand(
  file: string,
  args: readonly string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          child.kill('SIGKILL');
          stderr += `\n(killed after ${opts.timeoutMs} ms)`;
        }, opts.timeoutMs)
      : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs a program and fails with its stderr when it exits non-zero. */
export async function mustRun(file: string, args: readonly string[], opts: Parameters<typeof runCommand>[2] = {}): Promise<string> {
  const result = await runCommand(file, args, opts);
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim()}`);
  }
  return result.stdout;
}

/** `ip <args>`; with `netns`, inside that namespace (`ip -n`). */
export function ip(args: readonly string[], netns?: string): Promise<string> {
  return mustRun('ip', netns ? ['-n', netns, ...args] : args);
}

/**
 * Gives the program a /sys/class/net of its own network namespace: mounts a
 * sysfs made in that namespace aside, binds its class/net over the shared
 * one, drops the rest, then execs the program (same pid all along).
 */
const OWN_SYS_CLASS_NET =
  'd=$(mktemp -d /tmp/tycho-sysfs.XXXXXX) && mount -t sysfs sysfs "$d" && mount --bind "$d/class/net" /sys/class/net && umount -l "$d" && rmdir "$d" && exec "$@"';

/**
 * The argv that runs `argv` inside a named network namespace. Not `ip netns
 * exec`: that remounts all of /sys, which hides the bpffs (/sys/fs/bpf) and
 * cgroup2 (/sys/fs/cgroup/unified) mounts the agent and datapath need. This
 * enters the network namespace with nsenter and, in a private mount
 * namespace, replaces only /sys/class/net with the namespace's own view.
 */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  return [
    'nsenter',
    `--net=${NETNS_DIR}/${netns}`,
    '--',
    'unshare',
    '--mount',
    '--propagation',
    'slave',
    '--',
    'sh',
    '-c',
    OWN_SYS_CLASS_NET,
    'sh',
    ...argv,
  ];
}

/** Sets a sysctl inside a lab namespace (never in the machine's own). */
export function sysctlIn(netns: string, key: string, value: string): Promise<string> {
  return mustRun('nsenter', [`--net=${NETNS_DIR}/${netns}`, '--', 'sysctl', '-q', '-w', `${key}=${value}`]);
}
