// ns per decision of `decide` (which policy allowed or denied a flow, asked by
// the agent for every flow it names policies on) with an endpoint whose egress
// holds 10,000 entries, as policyScale's 10,000-rule policy resolves to (one
// remote identity each, TCP port 1000 + i % 5000, plus a wildcard DNS allow
// and a deny range), against the same lookups on a 10-entry policy. Variant:
// the pass over every entry that `decide` made before it indexed them.
import { type Decision, type EndpointPolicy, type PolicyEntry, type PolicyRef, Protocol, decide, entryMatches } from '@tycho/policy';
import { check, measurement, pairedRatio, type Benchmark } from './benchmark.ts';

const LARGE = 10_000;
const SMALL = 10;
const DECISIONS = 200_000;
/** The pass over 10,000 entries is slow; fewer decisions keep a round short. */
const LINEAR_DECISIONS = 2_000;
const ROUNDS = 7;
const FIRST_IDENTITY = 1000;

const ref = (name: string): PolicyRef => ({ kind: 'CiliumNetworkPolicy', namespace: 'bench', name });

function endpointWith(rules: number): EndpointPolicy {
  const entries: PolicyEntry[] = [{ identity: 0, protocol: Protocol.TCP, port: 9000, endPort: 9999, deny: true, policies: [ref('deny-9k')] }];
  for (let i = 0; i < rules; i++) {
    const port = 1000 + (i % 5000);
    entries.push({ identity: FIRST_IDENTITY + i, protocol: Protocol.TCP, port, endPort: port, deny: false, policies: [ref('many-rules')] });
  }
  entries.push({ identity: 0, protocol: Protocol.UDP, port: 53, endPort: 53, deny: false, policies: [ref('dns')] });
  const none = { enforced: false, enforcedBy: [], entries: [] };
  return { endpointId: 1, identity: 300, selectedBy: [ref('many-rules')], ingress: none, egress: { enforced: true, enforcedBy: [ref('many-rules')], entries } };
}

/** Flows of a 10,000-rule policy's peers: allowed, on the wrong port, denied by the range, DNS, and unknown peers. */
function flowsFor(rules: number, count: number): { identity: number; port: number; protocol: number }[] {
  const flows = [];
  for (let i = 0; i < count; i++) {
    const rule = (i * 7919) % rules;
    const kind = i % 5;
    const port = 1000 + (rule % 5000);
    if (kind === 0 || kind === 1) flows.push({ identity: FIRST_IDENTITY + rule, port, protocol: Protocol.TCP });
    else if (kind === 2) flows.push({ identity: FIRST_IDENTITY + rule, port: port + 1, protocol: Protocol.TCP });
    else if (kind === 3) flows.push({ identity: FIRST_IDENTITY + rule, port: 9000 + (i % 1000), protocol: Protocol.TCP });
    else flows.push({ identity: 2, port: 53, protocol: Protocol.UDP });
  }
  return flows;
}

type Decide = (endpoint: EndpointPolicy, identity: number, port: number, protocol: number) => Decision;

const indexed: Decide = (endpoint, identity, port, protocol) => decide(endpoint, 'egress', identity, port, protocol);

/** The decision as `decide` made it before the index: every entry checked. */
const linear: Decide = (endpoint, identity, port, protocol) => {
  const policy = endpoint.egress;
  const matching = policy.entries.filter((entry) => entryMatches(entry, identity, port, protocol));
  const denies = matching.filter((entry) => entry.deny);
  if (denies.length > 0) return { verdict: 'denied-by-deny-rule', policies: denies.flatMap((entry) => entry.policies) };
  if (matching.length > 0) return { verdict: 'allowed', policies: matching.flatMap((entry) => entry.policies) };
  return { verdict: 'denied', policies: policy.enforcedBy };
};

let sink = 0;

function nsPerDecision(endpoint: EndpointPolicy, flows: readonly { identity: number; port: number; protocol: number }[], run: Decide): number {
  const start = process.hrtime.bigint();
  for (const flow of flows) sink += run(endpoint, flow.identity, flow.port, flow.protocol).policies.length;
  return Number(process.hrtime.bigint() - start) / flows.length;
}

export const policyDecideCost: Benchmark = {
  name: 'policyDecideCost',
  summary: 'ns per decide() (the policy naming a flow) at 10,000 entries vs at 10 entries; variant: the pass over every entry',
  async run({ log }) {
    const large = endpointWith(LARGE);
    const small = endpointWith(SMALL);
    const largeFlows = flowsFor(LARGE, DECISIONS);
    const smallFlows = flowsFor(SMALL, DECISIONS);
    const linearFlows = largeFlows.slice(0, LINEAR_DECISIONS);

    const buildStart = process.hrtime.bigint();
    decide(large, 'egress', 0, 0, 0);
    const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;
    const verdicts = new Map<string, number>();
    for (const flow of linearFlows) {
      const verdict = indexed(large, flow.identity, flow.port, flow.protocol).verdict;
      verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
    }
    const disagreements = linearFlows.filter((flow) => indexed(large, flow.identity, flow.port, flow.protocol).verdict !== linear(large, flow.identity, flow.port, flow.protocol).verdict).length;
    nsPerDecision(small, smallFlows, indexed);
    nsPerDecision(large, largeFlows, indexed); // warm-up: JIT

    const largeRounds: number[] = [];
    const smallRounds: number[] = [];
    const linearRounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      smallRounds.push(nsPerDecision(small, smallFlows, indexed));
      largeRounds.push(nsPerDecision(large, largeFlows, indexed));
      linearRounds.push(nsPerDecision(large, linearFlows, linear));
      log(`round ${round + 1}/${ROUNDS}: ${SMALL} entries ${smallRounds.at(-1)!.toFixed(0)} ns, ${LARGE.toLocaleString('en-US')} entries ${largeRounds.at(-1)!.toFixed(0)} ns, pass over every entry ${linearRounds.at(-1)!.toFixed(0)} ns per decision`);
    }

    const measured = measurement(`decide, ${LARGE.toLocaleString('en-US')} entries`, 'ns/decision', largeRounds);
    const baseline = measurement(`decide, ${SMALL} entries`, 'ns/decision', smallRounds);
    const linearMeasured = measurement(`pass over every entry, ${LARGE.toLocaleString('en-US')} entries`, 'ns/decision', linearRounds);
    const checks = [
      check(disagreements === 0, 'the indexed and the linear decision agree on every flow checked', `${disagreements} of ${linearFlows.length} differ`),
      check(verdicts.size === 3, 'the flows are allowed, denied and denied by the deny rule', [...verdicts].map(([verdict, n]) => `${verdict} ${n}`).join(', ')),
      `index of ${LARGE.toLocaleString('en-US')} entries built at the first decision in ${buildMs.toFixed(1)} ms; ${DECISIONS.toLocaleString('en-US')} decisions per round (${LINEAR_DECISIONS.toLocaleString('en-US')} for the pass) (sink ${sink & 1})`,
    ];
    return {
      name: this.name,
      measured,
      baseline,
      ratio: pairedRatio(measured.rounds, baseline.rounds),
      variants: [{ measured: linearMeasured, ratio: pairedRatio(linearMeasured.rounds, baseline.rounds) }],
      checks,
    };
  },
};
