// Flows/s through the filter engine (compileFilters, as agents, API and CLI
// use it) with a realistic 3-filter whitelist over a lab-like mix of flows.
// Baseline in the same run: the same loop with an empty filter set, which
// compiles to match-all, so the ratio is what the three filters cost.
import type { Flow } from '@tycho/flow';
import { compileFilters, type FlowFilter, type FlowPredicate } from '@tycho/filters';
import { check, measurement, pairedRatio, type Benchmark } from './benchmark.ts';
import { describeMix, labFlowMix } from './labFlowMix.ts';

/**
 * `hubble observe --from-pod default/client --to-port 8080 --protocol tcp`,
 * or DNS queries for cluster names to CoreDNS, or anything to the world named *.google.com.
 */
const WHITELIST: FlowFilter[] = [
  { source_pod: ['default/client'], destination_port: ['8080'], protocol: ['tcp'] },
  { destination_label: ['k8s:k8s-app=kube-dns'], protocol: ['dns'], dns_query: ['.*\\.svc\\.cluster\\.local\\.$'] },
  { destination_label: ['reserved:world'], destination_fqdn: ['*.google.com'] },
];
const DISTINCT_FLOWS = 10_000;
const PASSES_PER_ROUND = 100;
const ROUNDS = 7;

let sink = 0;

/** PASSES_PER_ROUND passes over the flows; returns flows/s and how many matched. */
function runRound(flows: readonly Flow[], predicate: FlowPredicate): { flowsPerSecond: number; matched: number } {
  let matched = 0;
  const start = process.hrtime.bigint();
  for (let pass = 0; pass < PASSES_PER_ROUND; pass++) {
    for (let i = 0; i < flows.length; i++) if (predicate(flows[i]!)) matched++;
  }
  const ns = Number(process.hrtime.bigint() - start);
  sink ^= matched;
  return { flowsPerSecond: (flows.length * PASSES_PER_ROUND) / (ns / 1e9), matched };
}

export const filterThroughput: Benchmark = {
  name: 'filterThroughput',
  summary: 'flows/s through compileFilters with a 3-filter whitelist vs the same loop with no filters (match-all)',
  async run({ log }) {
    const flows = labFlowMix(DISTINCT_FLOWS);
    const filtered = compileFilters(WHITELIST);
    const matchAll = compileFilters([]);
    const perPass = flows.filter(filtered).length;

    runRound(flows, matchAll);
    runRound(flows, filtered); // warm-up: JIT
    const filteredRounds: number[] = [];
    const matchAllRounds: number[] = [];
    const matchedCounts = new Set<number>();
    for (let round = 0; round < ROUNDS; round++) {
      const all = runRound(flows, matchAll);
      const some = runRound(flows, filtered);
      matchAllRounds.push(all.flowsPerSecond);
      filteredRounds.push(some.flowsPerSecond);
      matchedCounts.add(some.matched);
      if (all.matched !== flows.length * PASSES_PER_ROUND) throw new Error(`match-all matched ${all.matched} flows`);
      log(
        `round ${round + 1}/${ROUNDS}: match-all ${Math.round(all.flowsPerSecond).toLocaleString('en-US')} flows/s, ` +
          `3 filters ${Math.round(some.flowsPerSecond).toLocaleString('en-US')} flows/s (${(1e9 / some.flowsPerSecond).toFixed(1)} ns/flow)`,
      );
    }

    const measured = measurement('3-filter whitelist', 'flows/s', filteredRounds);
    const baseline = measurement('no filters (match-all)', 'flows/s', matchAllRounds);
    const checks = [
      `flows: ${flows.length.toLocaleString('en-US')} distinct (${describeMix(flows)}), ${PASSES_PER_ROUND} passes per round`,
      check(perPass > 0 && perPass < flows.length, 'the whitelist lets some flows through and turns others down', `${perPass} of ${flows.length} match`),
      check(matchedCounts.size === 1 && matchedCounts.has(perPass * PASSES_PER_ROUND), 'every filtered round matched the same flows', `${[...matchedCounts].join(', ')} per round`),
      check(WHITELIST.every((filter) => flows.some(compileFilters([filter]))), 'each of the three filters matches some flows', WHITELIST.map((f) => flows.filter(compileFilters([f])).length).join(', ')),
      `median cost: ${(1e9 / measured.value).toFixed(1)} ns/flow filtered, ${(1e9 / baseline.value).toFixed(2)} ns/flow match-all (sink ${sink & 1})`,
    ];
    return { name: this.name, measured, baseline, ratio: pairedRatio(measured.rounds, baseline.rounds), checks };
  },
};
