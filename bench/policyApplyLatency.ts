// Time from `tycho policy apply` (and `policy delete`) to enforcement, seen
// from a real socket. A bench node runs the real agent (reading the bench's
// Kubernetes API, the lab's double in this process: bench/benchApiServer.ts)
// and two pods wired by tycho-cni. Each round creates or deletes the
// CiliumNetworkPolicy in the API server's store, in this process (not
// kubectl or the CLI, whose start would be measured) — and
// pod A's probe (bench/policyApplyProbe.ts) connects to B:PORT every 5 ms
// (PROBE_INTERVAL_MS), each attempt a new socket and so a new conntrack entry,
// until the outcome flips:
//   apply  → denied:  an egress policy for the pods allowing only OTHER_PORT;
//   delete → allowed: the policy removed.
// Enforcement is observed at the start of the first attempt of the run of
// new outcomes (an upper bound: it came after the last old one, one interval
// before). Every 1 ms was tried: the 1,000 connections/s, each a handful of
// flow events for the agent, slowed the agent they measure (docs/benchmarks.md).
// Baseline, for the same write: the time a trivial watcher (a separate
// process, one bare client-node Watch of the namespace's policies) sees it —
// what any agent watching the API pays before it can start resolving. The difference is the agent's part: noticing, resolving,
// writing the BPF maps, and the first packet judged.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { check, measurement, pairedRatio, type Benchmark, type BenchmarkContext } from './benchmark.ts';
import { startBenchNode } from './benchNode.ts';
import { PROBE_INTERVAL_MS, type Outcome, type ProbeResult } from './policyApplyProbe.ts';
import { inNetns } from './systemCommand.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROBE = join(REPO_ROOT, 'bench/policyApplyProbe.ts');
const PORT = 11111;
const OTHER_PORT = 11112;
const ROUNDS = 100;
/** Rounds before the measured ones (the first resolution of a policy, JIT warm-up). */
const WARMUP_ROUNDS = 2;
/** Idle time after a flip, plus up to this much again at random, so flips do not keep one phase to the agent's timers. */
const SETTLE_MS = 100;
const NAMESPACE = 'bench';
const POLICY_NAME = 'tycho-bench-only-other-port';

/** Selects every pod of the bench namespace (A and B); egress only to OTHER_PORT, so A → B:PORT is denied. */
const POLICY = {
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name: POLICY_NAME, namespace: NAMESPACE },
  spec: {
    endpointSelector: {},
    egress: [{ toEndpoints: [{}], toPorts: [{ ports: [{ port: String(OTHER_PORT), protocol: 'TCP' }] }] }],
  },
};

/** A helper process speaking lines; `next()` resolves with its next stdout line. */
function startHelper(ctx: BenchmarkContext, argv: readonly string[], what: string) {
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  ctx.defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    wake?.();
  });
  child.on('exit', () => wake?.());
  const next = async (timeoutMs = 30_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    while (lines.length === 0) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`${what} said nothing for ${timeoutMs} ms`);
      const timer = setTimeout(() => wake?.(), 100);
      await new Promise<void>((resolve) => (wake = resolve));
      clearTimeout(timer);
      wake = undefined;
    }
    const line = lines.shift()!;
    if (line.startsWith('error')) throw new Error(`${what}: ${line}`);
    return line;
  };
  return {
    next,
    send: (line: string) => child.stdin!.write(`${line}\n`),
  } as const;
}

const tsx = (args: readonly string[]) => [process.execPath, '--import', 'tsx', PROBE, ...args];

/** The p-th percentile (nearest rank) of the values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Flip {
  /** From the start of the API write to enforcement observed (ms). */
  enforcedMs: number;
  /** From the start of the API write to the trivial watcher seeing its resourceVersion (ms). */
  watcherMs: number;
  /** Start of the first new-outcome attempt minus the last old-outcome one: how precisely the flip was located (ms). */
  windowMs: number;
  strays: number;
  attempts: number;
}

export const policyApplyLatency: Benchmark = {
  name: 'policyApplyLatency',
  summary: 'policy apply/delete → enforced on A→B connect(), p50/p99, vs. a trivial API watcher seeing the same write',
  async run(ctx) {
    const { log } = ctx;
    const node = await startBenchNode(ctx, ['a', 'b']);
    const [a, b] = node.pods as [(typeof node.pods)[0], (typeof node.pods)[0]];
    log(`pods: a ${a.ip} (${a.endpoint.hostIfname}), b ${b.ip} (${b.endpoint.hostIfname}); Kubernetes API ${node.kube.url}`);
    const apply = () => Number(node.kube.put(POLICY).metadata.resourceVersion);
    const remove = () => Number(node.kube.remove('CiliumNetworkPolicy', NAMESPACE, POLICY_NAME).metadata.resourceVersion);

    const server = startHelper(ctx, inNetns(b.netns, tsx(['listen', b.ip, String(PORT)])), 'listener in pod b');
    await server.next();
    const watcher = startHelper(ctx, tsx(['watch', node.kube.url, NAMESPACE]), 'API watcher');
    while ((await watcher.next()) !== 'started');
    const probe = startHelper(ctx, inNetns(a.netns, tsx(['probe'])), 'probe in pod a');
    await probe.next();

    const flip = async (expect: Outcome): Promise<Flip> => {
      probe.send(`probe ${b.ip} ${PORT} ${expect}`);
      const ready = await probe.next();
      if (ready !== 'ready') throw new Error(`probe said '${ready}' instead of ready`);
      const startMs = performance.timeOrigin + performance.now();
      const revision = expect === 'denied' ? apply() : remove();
      const resultLine = await probe.next();
      if (!resultLine.startsWith('result ')) throw new Error(`probe said '${resultLine}' instead of a result`);
      const result = JSON.parse(resultLine.slice(7)) as ProbeResult;
      let watcherSeenMs: number | undefined;
      while (watcherSeenMs === undefined) {
        const [word, seen, at] = (await watcher.next(5_000)).split(' ');
        if (word === 'revision' && Number(seen) === revision) watcherSeenMs = Number(at);
      }
      if (result.lastOldMs > startMs + 1 && result.firstNewMs - result.lastOldMs > 50) {
        // Not a failure, but worth seeing: the probe could not locate the flip closely.
        log(`${expect}: flip located only within ${(result.firstNewMs - result.lastOldMs).toFixed(1)} ms`);
      }
      await new Promise((r) => setTimeout(r, SETTLE_MS + Math.random() * SETTLE_MS));
      return {
        enforcedMs: result.firstNewMs - startMs,
        watcherMs: watcherSeenMs - startMs,
        windowMs: result.firstNewMs - result.lastOldMs,
        strays: result.strays,
        attempts: result.attempts,
      };
    };

    log(`warm-up: ${WARMUP_ROUNDS} rounds (not counted)`);
    for (let i = 0; i < WARMUP_ROUNDS; i++) {
      await flip('denied');
      await flip('allowed');
    }
    const applied: Flip[] = [];
    const deleted: Flip[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      applied.push(await flip('denied'));
      deleted.push(await flip('allowed'));
      const [x, y] = [applied.at(-1)!, deleted.at(-1)!];
      log(`round ${round + 1}/${ROUNDS}: apply→denied ${x.enforcedMs.toFixed(1)} ms (watcher ${x.watcherMs.toFixed(1)}), delete→allowed ${y.enforcedMs.toFixed(1)} ms (watcher ${y.watcherMs.toFixed(1)})`);
    }

    const all = [...applied, ...deleted];
    const summary = (flips: readonly Flip[], key: 'enforcedMs' | 'watcherMs') => {
      const values = flips.map((f) => f[key]);
      return `p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms`;
    };
    log(`apply → denied: ${summary(applied, 'enforcedMs')}; watcher ${summary(applied, 'watcherMs')}`);
    log(`delete → allowed: ${summary(deleted, 'enforcedMs')}; watcher ${summary(deleted, 'watcherMs')}`);
    const checks = [
      check(
        applied.length === ROUNDS && deleted.length === ROUNDS,
        `every write flipped A→B:${PORT} from a real connect(): ${ROUNDS} applies to denied and ${ROUNDS} deletes to allowed, each confirmed by the probe's next attempts in a row`,
        `${all.reduce((n, f) => n + f.attempts, 0)} connect attempts`,
      ),
      check(
        all.every((f) => f.enforcedMs > 0 && f.watcherMs > 0),
        'enforcement and the watcher came after the write started',
        `min enforced ${Math.min(...all.map((f) => f.enforcedMs)).toFixed(2)} ms, min watcher ${Math.min(...all.map((f) => f.watcherMs)).toFixed(2)} ms`,
      ),
      check(
        percentile(all.map((f) => f.windowMs), 50) <= 10 * PROBE_INTERVAL_MS,
        `the flip is located within a few probe intervals (${PROBE_INTERVAL_MS} ms): median window between the last old and first new attempt`,
        `${percentile(all.map((f) => f.windowMs), 50).toFixed(2)} ms, p99 ${percentile(all.map((f) => f.windowMs), 99).toFixed(2)} ms; ${all.reduce((n, f) => n + f.strays, 0)} stray outcomes before a flip`,
      ),
    ];
    const measured = measurement(`apply → denied (p99 ${percentile(applied.map((f) => f.enforcedMs), 99).toFixed(1)} ms)`, 'ms', applied.map((f) => f.enforcedMs));
    const baseline = measurement(`trivial API watcher sees the apply (p99 ${percentile(applied.map((f) => f.watcherMs), 99).toFixed(1)} ms)`, 'ms', applied.map((f) => f.watcherMs));
    const deleteBaseline = measurement(`trivial API watcher sees the delete (p99 ${percentile(deleted.map((f) => f.watcherMs), 99).toFixed(1)} ms)`, 'ms', deleted.map((f) => f.watcherMs));
    const deleteMeasured = measurement(`delete → allowed (p99 ${percentile(deleted.map((f) => f.enforcedMs), 99).toFixed(1)} ms)`, 'ms', deleted.map((f) => f.enforcedMs));
    return {
      name: this.name,
      measured,
      baseline,
      ratio: pairedRatio(measured.rounds, baseline.rounds),
      variants: [{ measured: deleteMeasured, baseline: deleteBaseline, ratio: pairedRatio(deleteMeasured.rounds, deleteBaseline.rounds) }],
      checks,
    };
  },
};
