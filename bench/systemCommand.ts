// Running the system tools benchmarks drive (ip, nsenter, sockperf, tc).
import { spawn } from 'node:child_process';

export const NETNS_DIR = '/var/run/netns';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell) and collects its output; rejects only if it cannot be started. */
export function runCommand(file: string, args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n(killed after ${timeoutMs} ms)`;
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** Runs a program and fails with its output when it exits non-zero. */
export async function mustRun(file: string, args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await runCommand(file, args, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim()}`);
  }
  return result.stdout;
}

/** `ip <args>`, inside `netns` when given. */
export function ip(args: readonly string[], netns?: string): Promise<string> {
  return mustRun('ip', netns ? ['-n', netns, ...args] : args);
}

/** The argv that runs `argv` in a network namespace, keeping the host's /sys (and so bpffs) visible. */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${NETNS_DIR}/${netns}`, '--', ...argv];
}
