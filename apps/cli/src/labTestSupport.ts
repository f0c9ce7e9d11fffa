import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KUBECONFIG_FILE } from '@tycho/lab';

/** What the lab tests share: running the real `tycho` and `kubectl` commands and looking for leftovers. */

export const run = promisify(execFile);
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const tychoBin = join(repoRoot, 'apps/cli/bin/tycho.mjs');

/** The real kubectl against the running lab's Kubernetes API (the kubeconfig `tycho lab up` prints). */
export async function kubectl(args: string[], timeoutMs = 30_000): Promise<string> {
  const { stdout } = await run('kubectl', args, { env: { ...process.env, KUBECONFIG: KUBECONFIG_FILE }, timeout: timeoutMs });
  return stdout;
}

export async function tycho(args: string[], timeoutMs = 240_000): Promise<string> {
  const { stdout } = await run(process.execPath, [tychoBin, ...args], { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/** Network namespaces with the lab's names (tests of other parts use `tycho-t-*` and are not counted). */
export async function labNamespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'netns', 'list']);
  const list = stdout.trim() === '' ? [] : (JSON.parse(stdout) as { name: string }[]);
  return list.map((ns) => ns.name).filter((name) => /^tycho-(underlay|world|node-\d+|pod-.*)$/.test(name));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
