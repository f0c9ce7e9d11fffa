import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** What the lab tests share: running the real `tycho` command and looking for leftovers. */

export const run = promisify(execFile);
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const tychoBin = join(repoRoot, 'apps/cli/bin/tycho.mjs');

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
