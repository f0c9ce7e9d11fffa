// TCP_RR transactions/s between two pods on one node, with the flow programs
// attached to both pods' veths versus detached, in interleaved rounds
// (A B C D A B C D …). The pods are wired by tycho-cni; the agent attaches
// and detaches the programs as pods register and deregister (benchNode.ts).
// Rounds C and D have the empty tc program on the same hooks instead, as tcx
// links (how the datapath attaches) and as clsact filters: they separate what
// the hook costs from what our programs cost, and the two kinds of hook.
import { spawn } from 'node:child_process';
import type { HookKind, HookProgram, TcDirection } from '@tycho/datapath';
import { check, measurement, pairedRatio, type Benchmark, type Measurement } from './benchmark.ts';
import { startBenchNode, type BenchNode } from './benchNode.ts';
import { inNetns, mustRun, NETNS_DIR, runCommand } from './systemCommand.ts';

const PORT = 11111;
const SECONDS_PER_ROUND = 2;
const ROUND_SETS = 10;
/** Client and server share one CPU, so a round does not depend on where the scheduler puts them. */
const CPU = '1';
/** Ahead of ordinary tasks on a shared machine (the lab, tests); still below real-time ones. */
const NICE = '-15';
const GOAL_RATIO = 0.97;
/** Pairs of rounds (attached, empty tcx) after the sets that time every program run instead. */
const LIVE_COST_PAIRS = 3;

/** What is on the pods' host veths during a round. */
type HookState = 'attached' | 'detached' | 'empty tcx' | 'empty clsact';
const STATES: readonly HookState[] = ['attached', 'detached', 'empty tcx', 'empty clsact'];

const emptyHook = (state: HookState): HookKind | undefined =>
  state === 'empty tcx' ? 'tcx' : state === 'empty clsact' ? 'clsact' : undefined;

/** sockperf's summary line: `[Total Run] RunTime=5.000 sec; Warm up time=400 msec; SentMessages=…; ReceivedMessages=…`. */
const TOTAL_RUN = /\[Total Run\] RunTime=([\d.]+) sec;.*?SentMessages=(\d+); ReceivedMessages=(\d+)/;
const VALID_RUN = /\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=(\d+); ReceivedMessages=(\d+)/;

/** Transactions/s of one sockperf ping-pong run: replies received over the valid (post warm-up) duration. */
export function transactionsPerSecond(output: string): number {
  const valid = VALID_RUN.exec(output) ?? TOTAL_RUN.exec(output);
  if (!valid) throw new Error(`sockperf output has no '[Valid Duration]' summary:\n${output.slice(-800)}`);
  const seconds = Number(valid[1]);
  const received = Number(valid.at(-1));
  if (!(seconds > 0) || !(received > 0)) throw new Error(`sockperf ran ${seconds} s and received ${received} replies:\n${output.slice(-800)}`);
  return received / seconds;
}

/** What the kernel has summed up for a program while kernel.bpf_stats_enabled was 1. */
async function programRunStats(id: number): Promise<{ runTimeNs: number; runs: number }> {
  const info = JSON.parse(await mustRun('bpftool', ['prog', 'show', 'id', String(id), '--json'])) as { run_time_ns?: number; run_cnt?: number };
  return { runTimeNs: info.run_time_ns ?? 0, runs: info.run_cnt ?? 0 };
}

async function setBpfStats(value: string): Promise<void> {
  await mustRun('sysctl', ['-q', '-w', `kernel.bpf_stats_enabled=${value}`]);
}

async function waitForListener(netns: string, port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const out = await mustRun('nsenter', [`--net=${NETNS_DIR}/${netns}`, '--', 'ss', '-Htln', `sport = :${port}`]);
    if (out.trim() !== '') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sockperf server in ${netns} is not listening on TCP ${port} after 10 s`);
}

export const tcpRr: Benchmark = {
  name: 'tcpRr',
  summary: 'TCP_RR transactions/s pod→pod on one node (sockperf ping-pong), flow programs attached vs detached (and the empty program)',
  async run(ctx) {
    const { log, defer } = ctx;
    const node: BenchNode = await startBenchNode(ctx, ['a', 'b']);
    const [client, server] = node.pods as [BenchNode['pods'][0], BenchNode['pods'][0]];
    log(`pods: a ${client.ip} (${client.endpoint.hostIfname}), b ${server.ip} (${server.endpoint.hostIfname})`);

    const serverArgv = inNetns(server.netns, ['nice', '-n', NICE, 'taskset', '-c', CPU, 'sockperf', 'sr', '--tcp', '-i', server.ip, '-p', String(PORT)]);
    const sockperfServer = spawn(serverArgv[0]!, serverArgv.slice(1), { stdio: 'ignore' });
    defer(() => {
      sockperfServer.kill('SIGKILL');
    });
    await waitForListener(server.netns, PORT);

    const pingPong = async (): Promise<number> => {
      const argv = inNetns(client.netns, ['nice', '-n', NICE, 'taskset', '-c', CPU, 'sockperf', 'pp', '--tcp', '-i', server.ip, '-p', String(PORT), '-t', String(SECONDS_PER_ROUND)]);
      const result = await runCommand(argv[0]!, argv.slice(1), (SECONDS_PER_ROUND + 30) * 1000);
      if (result.code !== 0) throw new Error(`sockperf client failed (exit ${result.code}): ${(result.stderr || result.stdout).slice(-800)}`);
      return transactionsPerSecond(result.stdout + result.stderr);
    };

    let verifiedRounds = 0;
    let attachedFlows = 0;
    /** The kind of hook the datapath used, seen in the first attached round. */
    let datapathHook: string | undefined;
    const expectedPrograms = (state: HookState): string[] => {
      const hook = emptyHook(state);
      if (hook) return [`${hook} ingress bench_empty`, `${hook} egress bench_empty`];
      return state === 'attached' ? [`${datapathHook} ingress from_container`, `${datapathHook} egress to_container`] : [];
    };
    // Live cost rounds turn on the kernel's run-time statistics, which time
    // every BPF program run on the machine; whatever it was is restored.
    const bpfStatsBefore = (await mustRun('sysctl', ['-n', 'kernel.bpf_stats_enabled'])).trim();
    defer(() => setBpfStats(bpfStatsBefore));
    /**
     * One measured round in the given state; checks the state and that the programs saw (or did not see) the traffic.
     * With timeRuns, the kernel times every run of the programs on the veths: nsPerRun is their mean run time per direction.
     */
    const round = async (state: HookState, timeRuns = false): Promise<{ tps: number; nsPerRun?: Record<TcDirection, number> }> => {
      const hook = emptyHook(state);
      if (state === 'attached') {
        await node.attachPrograms();
      } else {
        await node.detachPrograms();
        if (hook) await node.attachEmptyPrograms(hook);
      }
      const hookPrograms: HookProgram[] = [];
      for (const pod of [client, server]) {
        const onPod = await node.hookProgramsOn(pod);
        hookPrograms.push(...onPod);
        const programs = onPod.map((p) => `${p.hook} ${p.direction} ${p.name}`);
        if (state === 'attached' && datapathHook === undefined) {
          datapathHook = programs[0]?.split(' ')[0];
          log(`the datapath attached its programs as ${datapathHook}`);
        }
        const expected = expectedPrograms(state);
        if (programs.join() !== expected.join()) {
          throw new Error(`${pod.endpoint.hostIfname}: expected programs [${expected.join(', ')}], found [${programs.join(', ')}]`);
        }
      }
      const before = await node.status();
      let runsBefore: { runTimeNs: number; runs: number }[] = [];
      if (timeRuns) {
        await setBpfStats('1');
        runsBefore = await Promise.all(hookPrograms.map((p) => programRunStats(p.id)));
      }
      const tps = await pingPong();
      let nsPerRun: Record<TcDirection, number> | undefined;
      if (timeRuns) {
        const runsAfter = await Promise.all(hookPrograms.map((p) => programRunStats(p.id)));
        await setBpfStats(bpfStatsBefore);
        const perDirection = (direction: TcDirection): number => {
          let timeNs = 0;
          let runs = 0;
          hookPrograms.forEach((p, i) => {
            if (p.direction !== direction) return;
            timeNs += runsAfter[i]!.runTimeNs - runsBefore[i]!.runTimeNs;
            runs += runsAfter[i]!.runs - runsBefore[i]!.runs;
          });
          if (runs === 0) throw new Error(`no ${direction} program run was timed in a ${state} round: is kernel.bpf_stats_enabled writable?`);
          return timeNs / runs;
        };
        nsPerRun = { ingress: perDirection('ingress'), egress: perDirection('egress') };
      }
      const after = await node.status();
      if (hook) await node.detachEmptyPrograms();
      const attached = state === 'attached';
      const flows = after.seen_flows - before.seen_flows;
      if (attached ? flows === 0 : flows !== 0) {
        throw new Error(`programs ${state} but the agent saw ${flows} new flows during the round`);
      }
      if (after.lost_events !== 0) throw new Error(`agent reports ${after.lost_events} lost events`);
      verifiedRounds++;
      if (attached) attachedFlows += flows;
      return { tps, nsPerRun };
    };

    log('warm-up round (not counted)');
    await round('attached');
    const rounds = new Map<HookState, number[]>(STATES.map((state) => [state, []]));
    for (let set = 0; set < ROUND_SETS; set++) {
      for (const state of STATES) rounds.get(state)!.push((await round(state)).tps);
      log(`set ${set + 1}/${ROUND_SETS}: ${STATES.map((state) => `${state} ${Math.round(rounds.get(state)!.at(-1)!)} tps`).join(', ')}`);
    }
    log('live cost: rounds with every program run timed (kernel.bpf_stats_enabled=1), not counted in transactions/s');
    const live = { ingress: [] as number[], egress: [] as number[], empty: [] as number[] };
    for (let pair = 0; pair < LIVE_COST_PAIRS; pair++) {
      const attached = (await round('attached', true)).nsPerRun!;
      const empty = (await round('empty tcx', true)).nsPerRun!;
      live.ingress.push(attached.ingress);
      live.egress.push(attached.egress);
      live.empty.push((empty.ingress + empty.egress) / 2);
      log(`live cost ${pair + 1}/${LIVE_COST_PAIRS}: from_container ${attached.ingress.toFixed(1)} ns/run, to_container ${attached.egress.toFixed(1)} ns/run, bench_empty ${live.empty.at(-1)!.toFixed(1)} ns/run`);
    }
    const checks = [
      check(
        verifiedRounds === STATES.length * ROUND_SETS + 1 + 2 * LIVE_COST_PAIRS,
        `every round had from_container/to_container (as ${datapathHook}) on both host veths when attached, bench_empty as tcx or clsact ` +
          'in empty rounds and no program when detached, the agent saw flows only in attached rounds, no lost events',
        `${verifiedRounds} rounds verified, ${attachedFlows} flows seen in attached rounds`,
      ),
    ];
    const measured = measurement(`programs attached (${datapathHook})`, 'transactions/s', rounds.get('attached')!);
    const baseline = measurement('programs detached', 'transactions/s', rounds.get('detached')!);
    const variant = (m: Measurement) => ({ measured: m, ratio: pairedRatio(m.rounds, baseline.rounds) });
    const liveEmpty = measurement('bench_empty run (tcx)', 'ns/run', live.empty);
    return {
      name: this.name,
      measured,
      baseline,
      ratio: pairedRatio(measured.rounds, baseline.rounds),
      goal: { kind: 'ratioAtLeast', min: GOAL_RATIO },
      variants: [
        variant(measurement('empty tc program as tcx link', 'transactions/s', rounds.get('empty tcx')!)),
        variant(measurement('empty tc program as clsact filter', 'transactions/s', rounds.get('empty clsact')!)),
        { measured: measurement('from_container run, live traffic (bpf_stats)', 'ns/run', live.ingress), baseline: liveEmpty, ratio: pairedRatio(live.ingress, live.empty) },
        { measured: measurement('to_container run, live traffic (bpf_stats)', 'ns/run', live.egress), baseline: liveEmpty, ratio: pairedRatio(live.egress, live.empty) },
      ],
      checks,
    };
  },
};
