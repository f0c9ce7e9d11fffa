// A large CiliumNetworkPolicy against the real agent: apply → programmed for
// 1,000 / 10,000 / 50,000 rules, the agent's CPU-seconds until it is idle
// again, and how long the agent took at worst to answer its status meanwhile
// (the observer must keep being served). A bench node runs the real agent
// with the datapath (BPF maps) and one pod; each size is created in the
// bench's Kubernetes API (the lab's double, bench/benchApiServer.ts),
// rule i allowing the pod's egress to 10.x.y.z/32 (one CIDR identity each)
// on TCP port 1000 + i % 5000: N policy-map keys and N ipcache entries.
// Programmed = the agent's GET /v1/policies reports the write's resourceVersion
// as programmed_revision (every map written). Idle = a 1 s window with under
// 20 ms of agent CPU (2 %). CPU from /proc/<pid>/stat (utime + stime).
// Baseline, same run: a 1-rule policy applied and measured the same way.
import { readFileSync } from 'node:fs';
import type { PolicyRef } from '@tycho/policy';
import { check, measurement, type Benchmark } from './benchmark.ts';
import { startBenchNode } from './benchNode.ts';

const SIZES = [1_000, 10_000, 50_000] as const;
const BASELINE_RULES = 1;
const NAMESPACE = 'bench';
const POLICY_NAME = 'tycho-bench-many-cidrs';
const POLICY_REF: PolicyRef = { kind: 'CiliumNetworkPolicy', namespace: NAMESPACE, name: POLICY_NAME };
const IDLE_WINDOW_MS = 1000;
const IDLE_CPU_MS = 20;
const PROGRAMMED_TIMEOUT_MS = 600_000;
const STATUS_PROBE_MS = 50;
const CLOCK_TICKS_PER_SECOND = 100;

function policyWith(rules: number) {
  const egress = Array.from({ length: rules }, (_, i) => ({
    toCIDR: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`],
    toPorts: [{ ports: [{ port: String(1000 + (i % 5000)), protocol: 'TCP' }] }],
  }));
  return { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name: POLICY_NAME, namespace: NAMESPACE }, spec: { endpointSelector: {}, egress } };
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Round {
  rules: number;
  programmedMs: number;
  cpuSeconds: number;
  idleAfterMs: number;
  worstStatusMs: number;
  egressRules: number;
}

export const policyScale: Benchmark = {
  name: 'policyScale',
  summary: 'a 1,000/10,000/50,000-rule CNP: apply → programmed, agent CPU-seconds until idle, worst status answer meanwhile, vs a 1-rule policy',
  async run(ctx) {
    const node = await startBenchNode(ctx, ['a']);
    const pid = node.agentPid;
    if (pid === undefined) throw new Error('the agent has no pid');
    const apply = (rules: number) => Number(node.kube.put(policyWith(rules)).metadata.resourceVersion);
    const remove = () => Number(node.kube.remove('CiliumNetworkPolicy', POLICY_REF.namespace, POLICY_REF.name).metadata.resourceVersion);
    type Status = { programmed_revision: number; endpoints: { pod_name: string; egress: { rules: number }; datapath_error?: string }[] };

    const waitIdle = async (): Promise<number> => {
      for (;;) {
        const before = cpuMs(pid);
        await sleep(IDLE_WINDOW_MS);
        if (cpuMs(pid) - before < IDLE_CPU_MS) return before;
      }
    };

    const measure = async (rules: number): Promise<Round> => {
      await waitIdle();
      const cpuBefore = cpuMs(pid);
      const start = performance.now();
      const revision = rules > 0 ? apply(rules) : remove();
      // Status probes every STATUS_PROBE_MS, each timed: the agent's event loop must keep answering.
      let worstStatusMs = 0;
      let probing = true;
      const prober = (async () => {
        while (probing) {
          const sent = performance.now();
          await node.status();
          worstStatusMs = Math.max(worstStatusMs, performance.now() - sent);
          await sleep(STATUS_PROBE_MS);
        }
      })();
      let status: Status | undefined;
      for (;;) {
        status = await node.agentGet<Status>('/v1/policies');
        if (status && status.programmed_revision >= revision) break;
        if (performance.now() - start > PROGRAMMED_TIMEOUT_MS) throw new Error(`${rules} rules: not programmed within ${PROGRAMMED_TIMEOUT_MS} ms`);
        await sleep(10);
      }
      const programmedMs = performance.now() - start;
      const idleFrom = await waitIdle();
      probing = false;
      await prober;
      const endpoint = status.endpoints.find((e) => e.pod_name === node.pods[0]!.name);
      if (endpoint?.datapath_error) throw new Error(`${rules} rules: ${endpoint.datapath_error}`);
      const round: Round = { rules, programmedMs, cpuSeconds: (idleFrom - cpuBefore) / 1000, idleAfterMs: performance.now() - start - IDLE_WINDOW_MS, worstStatusMs, egressRules: endpoint?.egress.rules ?? 0 };
      ctx.log(`${rules} rules: programmed in ${programmedMs.toFixed(0)} ms, ${round.cpuSeconds.toFixed(2)} agent CPU-s until idle (idle after ~${round.idleAfterMs.toFixed(0)} ms), worst status answer ${worstStatusMs.toFixed(0)} ms, ${round.egressRules} egress entries`);
      return round;
    };

    const baseline = await measure(BASELINE_RULES);
    await measure(0);
    const rounds: Round[] = [];
    for (const rules of SIZES) {
      rounds.push(await measure(rules));
      await measure(0);
    }
    const idleCpu = await (async () => {
      const before = cpuMs(pid);
      await sleep(5000);
      return (cpuMs(pid) - before) / 5000;
    })();
    ctx.log(`idle with no policy: ${(idleCpu * 100).toFixed(2)} % of a core`);
    // The idle cost with the largest policy in force (the poll must not parse it again).
    apply(SIZES.at(-1)!);
    await waitIdle();
    const heldBefore = cpuMs(pid);
    await sleep(5000);
    const heldCpu = (cpuMs(pid) - heldBefore) / 5000;
    ctx.log(`idle with the ${SIZES.at(-1)}-rule policy in force: ${(heldCpu * 100).toFixed(2)} % of a core`);
    remove();

    const ten = rounds.find((r) => r.rules === 10_000)!;
    const measured = measurement(`10,000 rules apply → programmed (${ten.cpuSeconds.toFixed(2)} agent CPU-s until idle)`, 'ms', [ten.programmedMs]);
    const base = measurement(`1-rule policy apply → programmed (${baseline.cpuSeconds.toFixed(2)} agent CPU-s)`, 'ms', [baseline.programmedMs]);
    return {
      name: this.name,
      measured,
      baseline: base,
      ratio: ten.programmedMs / baseline.programmedMs,
      variants: rounds
        .filter((r) => r.rules !== 10_000)
        .map((r) => ({ measured: measurement(`${r.rules.toLocaleString('en-US')} rules apply → programmed (${r.cpuSeconds.toFixed(2)} agent CPU-s, worst status ${r.worstStatusMs.toFixed(0)} ms)`, 'ms', [r.programmedMs]), ratio: r.programmedMs / baseline.programmedMs })),
      checks: [
        check(rounds.every((r) => r.egressRules === r.rules), 'every size was resolved whole: the endpoint has one egress entry per rule', rounds.map((r) => `${r.rules}: ${r.egressRules}`).join(', ')),
        check(rounds.every((r) => r.worstStatusMs < 2000), 'the agent answered every status probe within the 2 s the API and CLI wait while it programmed', rounds.map((r) => `${r.rules}: ${r.worstStatusMs.toFixed(0)} ms`).join(', ')),
        check(heldCpu < 0.02, `idle with the ${SIZES.at(-1)}-rule policy in force under 2 % of a core`, `${(heldCpu * 100).toFixed(2)} %`),
      ],
    };
  },
};
