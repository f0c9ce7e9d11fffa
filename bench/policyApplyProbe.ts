// Helper processes of bench/policyApplyLatency.ts, one per mode:
//   listen <ip> <port>  a TCP server (pod B): accepts and drops connections.
//   probe               the client (pod A): on `probe <ip> <port> allowed|denied`
//                       on stdin, starts a connect() every PROBE_INTERVAL_MS (each
//                       a new socket, so a new source port and a new conntrack
//                       entry), prints `ready` once an attempt showed the old
//                       outcome, and, once STREAK attempts in a row showed the
//                       new one, `result <json>` (probeResult).
//   watch <server> <namespace>
//                       a trivial watcher of the policies in the Kubernetes API:
//                       one bare client-node Watch of the namespace's
//                       CiliumNetworkPolicies, printing `revision <n> <time>`
//                       (the event's resourceVersion) on every event.
// Times are epoch milliseconds with sub-millisecond digits
// (performance.timeOrigin + performance.now()), comparable across processes.
import { connect, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** 1 ms loads the agent with flows enough to slow what is measured (docs/benchmarks.md, policyApplyLatency). */
export const PROBE_INTERVAL_MS = 5;
/** A connect() not answered within this is a dropped SYN (denied); an allowed one on a veth takes well under 1 ms. */
export const CONNECT_TIMEOUT_MS = 200;
/** Attempts in a row with the new outcome that end a probe. */
export const STREAK = 20;
/** A probe that has not seen the new outcome by then fails. */
const PROBE_LIMIT_MS = 15_000;

export type Outcome = 'allowed' | 'denied';

export interface ProbeResult {
  /** Start of the first attempt of the final run of new outcomes: enforcement was observed then. */
  firstNewMs: number;
  /** Start of the last attempt with the old outcome before it (enforcement came after it). */
  lastOldMs: number;
  attempts: number;
  /** Attempts before lastOldMs that showed the new outcome (a slow connect taken for a drop, or the reverse). */
  strays: number;
}

const nowMs = () => performance.timeOrigin + performance.now();

/**
 * Where the outcome flipped, from attempts in start order (only the ones up to
 * the first still in flight count); undefined while the final run of new
 * outcomes is shorter than STREAK.
 */
export function probeResult(all: readonly { startMs: number; outcome?: Outcome }[], expect: Outcome): ProbeResult | undefined {
  const pending = all.findIndex((a) => a.outcome === undefined);
  const attempts = pending < 0 ? all : all.slice(0, pending);
  let lastOld = -1;
  for (let i = attempts.length - 1; i >= 0; i--) {
    if (attempts[i]!.outcome !== expect) {
      lastOld = i;
      break;
    }
  }
  if (lastOld < 0 || attempts.length - lastOld - 1 < STREAK) return undefined;
  const strays = attempts.slice(0, lastOld).filter((a) => a.outcome === expect).length;
  return { firstNewMs: attempts[lastOld + 1]!.startMs, lastOldMs: attempts[lastOld]!.startMs, attempts: all.length, strays };
}

function attempt(host: string, port: number, onDone: (outcome: Outcome | Error) => void): void {
  let settled = false;
  const socket: Socket = connect({ host, port });
  const finish = (outcome: Outcome | Error) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    // A reset, not a close: no TIME_WAIT left behind by thousands of attempts.
    socket.resetAndDestroy();
    onDone(outcome);
  };
  const timer = setTimeout(() => finish('denied'), CONNECT_TIMEOUT_MS);
  socket.once('connect', () => finish('allowed'));
  socket.on('error', (error) => finish(new Error(`connect to ${host}:${port}: ${error.message}`)));
}

function runProbe(): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [command, host, portText, expect] = line.trim().split(/\s+/);
    if (command !== 'probe' || !host || !portText || (expect !== 'allowed' && expect !== 'denied')) {
      process.stdout.write(`error expected 'probe <ip> <port> allowed|denied', got '${line}'\n`);
      return;
    }
    const port = Number(portText);
    const attempts: { startMs: number; outcome?: Outcome }[] = [];
    let ready = false;
    let done = false;
    let inFlight = 0;
    const started = nowMs();
    const stop = (message: string) => {
      done = true;
      clearInterval(timer);
      const finishWhenDrained = () => (inFlight === 0 ? process.stdout.write(message) : setTimeout(finishWhenDrained, 5));
      finishWhenDrained();
    };
    const timer = setInterval(() => {
      if (done) return;
      if (nowMs() - started > PROBE_LIMIT_MS) {
        stop(`error no ${expect} outcome within ${PROBE_LIMIT_MS} ms (${attempts.length} attempts)\n`);
        return;
      }
      const record: { startMs: number; outcome?: Outcome } = { startMs: nowMs() };
      attempts.push(record);
      inFlight++;
      attempt(host, port, (outcome) => {
        inFlight--;
        if (done) return;
        if (outcome instanceof Error) {
          stop(`error ${outcome.message}\n`);
          return;
        }
        record.outcome = outcome;
        if (!ready && outcome !== expect) {
          ready = true;
          process.stdout.write('ready\n');
        }
        const result = ready ? probeResult(attempts, expect) : undefined;
        if (result) stop(`result ${JSON.stringify(result)}\n`);
      });
    }, PROBE_INTERVAL_MS);
  });
  process.stdout.write('started\n');
}

function runListen(host: string, port: number): void {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.destroy();
  });
  server.listen({ host, port, backlog: 4096 }, () => process.stdout.write('started\n'));
}

async function runWatch(server: string, namespace: string): Promise<void> {
  const { kubeConfigForServer } = await import('@tycho/kube');
  const { Watch } = await import('@kubernetes/client-node');
  const watch = new Watch(await kubeConfigForServer(server));
  await watch.watch(
    `/apis/cilium.io/v2/namespaces/${namespace}/ciliumnetworkpolicies`,
    {},
    (_type: string, object: { metadata?: { resourceVersion?: string } }) => process.stdout.write(`revision ${object.metadata?.resourceVersion ?? '?'} ${nowMs()}\n`),
    (error: unknown) => {
      process.stdout.write(`error the watch ended: ${String(error)}\n`);
      process.exit(1);
    },
  );
  process.stdout.write('started\n');
}

const [mode, ...args] = process.argv.slice(2);
if (process.argv[1] !== fileURLToPath(import.meta.url)) {
  // Imported (for probeResult and the constants), not run.
} else if (mode === 'probe') runProbe();
else if (mode === 'listen' && args.length === 2) runListen(args[0]!, Number(args[1]));
else if (mode === 'watch' && args.length === 2) void runWatch(args[0]!, args[1]!);
else {
  process.stderr.write('usage: policyApplyProbe.ts probe | listen <ip> <port> | watch <server> <namespace>\n');
  process.exit(2);
}
