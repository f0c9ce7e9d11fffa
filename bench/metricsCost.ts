// Cost per flow of Hubble metrics with all seven handlers on, fed as the agent
// feeds them: the observer's listener calls FlowMetrics.processFlow for every
// published flow (apps/agent/src/agent.ts). The option string is the seed's,
// as the lab runs it. Baseline in the same run: the same loop through the
// same listener with no handlers; variant: only the `flow` handler.
import type { Flow } from '@tycho/flow';
import { createFlowMetrics } from '@tycho/metrics';
import { check, measurement, pairedRatio, type Benchmark } from './benchmark.ts';
import { describeMix, labFlowMix } from './labFlowMix.ts';

const SEED_METRICS = 'dns:query;ignoreAAAA;destinationContext=pod-short,drop:sourceContext=pod;destinationContext=pod,tcp,flow,port-distribution,icmp,http';
const DISTINCT_FLOWS = 10_000;
const PASSES_PER_ROUND = 20;
const ROUNDS = 7;

interface FlowListener {
  onFlow(flow: Flow): void;
}

/** The agent's wiring: `listener: { onFlow: (flow) => flowMetrics.processFlow(flow) }`. */
function agentListener(options: string) {
  const flowMetrics = createFlowMetrics(options);
  const listener: FlowListener = { onFlow: (flow) => flowMetrics.processFlow(flow) };
  return { flowMetrics, listener };
}

/** PASSES_PER_ROUND passes over the flows through the listener; returns ns/flow. */
function runRound(flows: readonly Flow[], listener: FlowListener): number {
  const start = process.hrtime.bigint();
  for (let pass = 0; pass < PASSES_PER_ROUND; pass++) {
    for (let i = 0; i < flows.length; i++) listener.onFlow(flows[i]!);
  }
  return Number(process.hrtime.bigint() - start) / (flows.length * PASSES_PER_ROUND);
}

export const metricsCost: Benchmark = {
  name: 'metricsCost',
  summary: "ns/flow of the seed's metrics (all seven handlers) fed as the agent feeds them vs the same loop with no handlers",
  async run({ log }) {
    const flows = labFlowMix(DISTINCT_FLOWS);
    const all = agentListener(SEED_METRICS);
    const none = agentListener('');
    const flowOnly = agentListener('flow');

    for (const side of [none, flowOnly, all]) runRound(flows, side.listener); // warm-up: JIT, and every series created
    const allRounds: number[] = [];
    const noneRounds: number[] = [];
    const flowOnlyRounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      noneRounds.push(runRound(flows, none.listener));
      allRounds.push(runRound(flows, all.listener));
      flowOnlyRounds.push(runRound(flows, flowOnly.listener));
      log(
        `round ${round + 1}/${ROUNDS}: no handlers ${noneRounds.at(-1)!.toFixed(2)} ns/flow, ` +
          `seven handlers ${allRounds.at(-1)!.toFixed(1)} ns/flow, flow only ${flowOnlyRounds.at(-1)!.toFixed(1)} ns/flow`,
      );
    }

    const exposition = all.flowMetrics.render();
    const processed = (name: string) => exposition.split('\n').filter((line) => line.startsWith(name)).reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    const fed = flows.length * PASSES_PER_ROUND * (ROUNDS + 1);
    const series = exposition.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
    const families = new Set(all.flowMetrics.families.map((f) => f.name));
    const measured = measurement(`seven handlers ('${SEED_METRICS}')`, 'ns/flow', allRounds);
    const baseline = measurement('no handlers, same listener loop', 'ns/flow', noneRounds);
    const flowOnlyMeasured = measurement("only 'flow'", 'ns/flow', flowOnlyRounds);
    const checks = [
      `flows: ${flows.length.toLocaleString('en-US')} distinct (${describeMix(flows)}), ${PASSES_PER_ROUND} passes per round`,
      check(all.flowMetrics.handlers.length === 7 && none.flowMetrics.handlers.length === 0, 'seven handlers measured against none', `${all.flowMetrics.handlers.length} and ${none.flowMetrics.handlers.length}`),
      check(processed('hubble_flows_processed_total') === fed, 'hubble_flows_processed_total counted every flow fed', `${processed('hubble_flows_processed_total')} of ${fed}`),
      check(
        ['hubble_dns_queries_total', 'hubble_drop_total', 'hubble_tcp_flags_total', 'hubble_port_distribution_total', 'hubble_icmp_total', 'hubble_http_requests_total'].every((name) => families.has(name) && processed(name) > 0),
        'every handler counted something',
        `${families.size} families, ${series} series`,
      ),
      `median cost above the empty loop: seven handlers ${(measured.value - baseline.value).toFixed(1)} ns/flow, flow only ${(flowOnlyMeasured.value - baseline.value).toFixed(1)} ns/flow`,
    ];
    return {
      name: this.name,
      measured,
      baseline,
      ratio: pairedRatio(measured.rounds, baseline.rounds),
      variants: [{ measured: flowOnlyMeasured, ratio: pairedRatio(flowOnlyMeasured.rounds, baseline.rounds) }],
      checks,
    };
  },
};
