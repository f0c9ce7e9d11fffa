// The real API (`apps/api/src/main.ts`) as a child process for the API and
// service-map benchmarks, pinned to one CPU with `taskset -c` and run at
// `nice -n -15` (ahead of other tenants' ordinary tasks on a shared machine),
// following a fixed list of agents.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, type Agent } from 'node:http';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const API_MAIN = fileURLToPath(new URL('../apps/api/src/main.ts', import.meta.url));
export const WEB_DIST = fileURLToPath(new URL('../apps/web/dist', import.meta.url));
/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;
export const API_NICE = -15;
/**
 * V8 flags of the API process: a 64 MiB semi-space (young generation) instead
 * of V8's 16 MiB, so a busy relay's short-lived flows die in fewer, cheaper
 * scavenges. packages/lab starts the lab's API with the same flag.
 */
export const API_NODE_FLAGS = ['--max-semi-space-size=64'];

export interface ApiProcessOptions {
  /** `--agent` flags, `name=ws+unix://…`. */
  agentFlags: readonly string[];
  /** The CPU the process is pinned to (`taskset -c`). */
  cpu: number;
  webDir?: string;
  /** Further node flags (e.g. `--cpu-prof`), after API_NODE_FLAGS. */
  nodeFlags?: readonly string[];
  log(message: string): void;
}

export interface ApiProcess {
  readonly url: string;
  readonly pid: number;
  /** User + system CPU seconds the process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** Starts the API on a free port of 127.0.0.1 and waits until every agent is CONNECTED. */
export async function startApiProcess(options: ApiProcessOptions): Promise<ApiProcess> {
  const argv = [
    '-n', String(API_NICE), 'taskset', '-c', String(options.cpu),
    process.execPath, ...API_NODE_FLAGS, ...(options.nodeFlags ?? []), '--import', 'tsx', API_MAIN,
    '--host', '127.0.0.1', '--port', '0',
    '--web-dir', options.webDir ?? WEB_DIST,
    ...options.agentFlags.flatMap((flag) => ['--agent', flag]),
  ];
  const child = spawn('nice', argv, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderrTail: string[] = [];
  const api: ApiProcess = {
    url: '',
    pid: child.pid ?? -1,
    cpuSeconds: () => processCpuSeconds(child.pid ?? -1),
    stop: () => stopChild(child),
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the API did not say it was listening within 30 s; its stderr: ${stderrTail.join('\n')}`)), 30_000);
      let buffered = '';
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          stderrTail.push(line);
          if (stderrTail.length > 20) stderrTail.shift();
          const listening = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
          if (listening) {
            clearTimeout(timer);
            resolve(Number(listening[1]));
          }
        }
      });
      child.once('error', (error) => reject(new Error(`cannot start the API with nice and taskset: ${error.message}`)));
      child.once('exit', (code, signal) => reject(new Error(`the API exited (${code ?? signal}) before listening; its stderr: ${stderrTail.join('\n')}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    Object.assign(api, { url });
    options.log(`API pid ${child.pid} on ${url}, pinned with nice -n ${API_NICE} taskset -c ${options.cpu}, node ${[...API_NODE_FLAGS, ...(options.nodeFlags ?? [])].join(' ')}`);
    await waitUntil(async () => {
      const { body } = await getJson<{ nodes: { state: string }[] }>(`${url}/api/v1/nodes`);
      return body.nodes.length === options.agentFlags.length && body.nodes.every((node) => node.state === 'CONNECTED');
    }, 'every agent CONNECTED in /api/v1/nodes');
    return api;
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3 on: utime is field 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killTimer);
}

/** GET returning parsed JSON; rejects on a non-2xx status with the body. */
export function getJson<T>(url: string, agent?: Agent): Promise<{ status: number; body: T; bytes: number }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(new Error(`GET ${url} answered ${status}: ${text.slice(0, 300)}`));
        resolve({ status, body: JSON.parse(text) as T, bytes: text.length });
      });
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** Polls `condition` every 50 ms until it holds; fails after `timeoutMs` saying what it waited for. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
