// TCP_RR transactions/s between two pods on one node, with the flow programs
// attached to both pods' veths versus detached, in interleaved rounds
// (A B A B …). The pods are wired by tycho-cni; the agent attaches and
// detaches the programs as pods register and deregister (benchNode.ts).
import { spawn } from 'node:child_process';
import { check, measurement, pairedRatio, type Benchmark } from './benchmark.ts';
import { startBenchNode, type BenchNode } from './benchNode.ts';
import { inNetns, mustRun, NETNS_DIR, runCommand } from './systemCommand.ts';

const PORT = 11111;
const SECONDS_PER_ROUND = 2;
const ROUND_PAIRS = 10;
/** Client and server share one CPU, so a round does not depend on where the scheduler puts them. */
const CPU = '1';
/** Ahead of ordinary tasks on a shared machine (the lab, tests); still below real-time ones. */
const NICE = '-15';
const GOAL_RATIO = 0.97;

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
  summary: 'TCP_RR transactions/s pod→pod on one node (sockperf ping-pong), flow programs attached vs detached',
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
    /** One measured round in the given state; checks the state and that the programs saw (or did not see) the traffic. */
    const round = async (attached: boolean): Promise<number> => {
      if (attached) await node.attachPrograms();
      else await node.detachPrograms();
      for (const pod of [client, server]) {
        const programs = await node.programsOn(pod);
        const expected = attached ? ['ingress:from_container', 'egress:to_container'] : [];
        if (programs.join() !== expected.join()) {
          throw new Error(`${pod.endpoint.hostIfname}: expected tc programs [${expected.join(', ')}], found [${programs.join(', ')}]`);
        }
      }
      const before = await node.status();
      const tps = await pingPong();
      const after = await node.status();
      const flows = after.seen_flows - before.seen_flows;
      if (attached ? flows === 0 : flows !== 0) {
        throw new Error(`programs ${attached ? 'attached' : 'detached'} but the agent saw ${flows} new flows during the round`);
      }
      if (after.lost_events !== 0) throw new Error(`agent reports ${after.lost_events} lost events`);
      verifiedRounds++;
      if (attached) attachedFlows += flows;
      return tps;
    };

    log('warm-up round (not counted)');
    await round(true);
    const attachedRounds: number[] = [];
    const detachedRounds: number[] = [];
    for (let pair = 0; pair < ROUND_PAIRS; pair++) {
      attachedRounds.push(await round(true));
      detachedRounds.push(await round(false));
      log(`pair ${pair + 1}/${ROUND_PAIRS}: attached ${Math.round(attachedRounds.at(-1)!)} tps, detached ${Math.round(detachedRounds.at(-1)!)} tps`);
    }
    const checks = [
      check(
        verifiedRounds === 2 * ROUND_PAIRS + 1,
        'every round had from_container/to_container on both host veths when attached and no program when detached, ' +
          'the agent saw flows only in attached rounds, no lost events',
        `${verifiedRounds} rounds verified, ${attachedFlows} flows seen in attached rounds`,
      ),
    ];
    const measured = measurement('programs attached', 'transactions/s', attachedRounds);
    const baseline = measurement('programs detached', 'transactions/s', detachedRounds);
    return { name: this.name, measured, baseline, ratio: pairedRatio(measured.rounds, baseline.rounds), goal: { kind: 'ratioAtLeast', min: GOAL_RATIO }, checks };
  },
};
