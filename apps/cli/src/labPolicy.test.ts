import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow, GetFlowsResponse } from '@tycho/flow';
import { execInPod } from '@tycho/lab';
import { tycho } from './labTestSupport.ts';

/*
 * Network policy in the lab, end to end through the `tycho` command: the
 * seed's three CiliumNetworkPolicies are enforced by the eBPF datapath, so
 * the connectivity check passes whole (pod-to-a-l3-denied-cnp because its
 * GET to echo-a is dropped), and that drop is a flow naming the policy.
 */

const workloadOf = (endpoint: Flow['source']) => endpoint?.workloads?.[0]?.name;

async function droppedFlows(extra: string[] = []): Promise<Flow[]> {
  return observedFlows(['--verdict', 'DROPPED', ...extra]);
}

async function observedFlows(filters: string[]): Promise<Flow[]> {
  const out = await tycho(['observe', ...filters, '-o', 'json'], 60_000);
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as GetFlowsResponse)
    .flatMap((response) => (response.flow ? [response.flow] : []));
}

describe('tycho lab with network policy', () => {
  beforeAll(async () => {
    await tycho(['lab', 'up', '--detach']);
  }, 300_000);

  afterAll(async () => {
    await tycho(['lab', 'down']);
  }, 120_000);

  it('tycho connectivity test reports every check passing', async () => {
    const report = await tycho(['connectivity', 'test', '--timeout', '120'], 180_000);
    expect(report.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(report).toMatch(/^pod-to-a-l3-denied-cnp\s+1\/1\s/m);
    expect(report).toMatch(/^pod-to-external-fqdn-allow-google-cnp\s+1\/1\s/m);
    expect(report).toContain('✅ All 15 checks passed');
  }, 200_000);

  it('tycho observe --verdict DROPPED shows the pod-to-a-l3-denied-cnp → echo-a drop with POLICY_DENIED and the policy', async () => {
    const deadline = Date.now() + 60_000;
    let drop: Flow | undefined;
    while (!drop) {
      drop = (await droppedFlows()).find((flow) => workloadOf(flow.source) === 'pod-to-a-l3-denied-cnp' && workloadOf(flow.destination) === 'echo-a');
      if (!drop && Date.now() > deadline) throw new Error('no pod-to-a-l3-denied-cnp → echo-a drop among the DROPPED flows');
      if (!drop) await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    expect(drop).toMatchObject({
      verdict: 'DROPPED',
      drop_reason: 133,
      drop_reason_desc: 'POLICY_DENIED',
      event_type: { type: 1, sub_type: 133 },
      traffic_direction: 'EGRESS',
      l4: { TCP: { destination_port: 8080 } },
      source: { namespace: 'default' },
      destination: { namespace: 'default' },
      egress_denied_by: [{ name: 'pod-to-a-l3-denied-cnp', namespace: 'default', kind: 'CiliumNetworkPolicy' }],
    });
    expect(drop.source?.identity).toBeGreaterThanOrEqual(256);
    expect(drop.destination?.identity).toBeGreaterThanOrEqual(256);
    expect(drop.destination?.identity).not.toBe(drop.source?.identity);
  }, 120_000);

  it('tycho observe --type policy-verdict shows the pod-to-a-allowed-cnp → echo-a verdict naming the policy', async () => {
    const deadline = Date.now() + 60_000;
    let verdict: Flow | undefined;
    while (!verdict) {
      const flows = await observedFlows(['--type', 'policy-verdict', '--last', '1000']);
      expect(flows.every((flow) => flow.event_type.type === 5)).toBe(true);
      verdict = flows.find((flow) => workloadOf(flow.source) === 'pod-to-a-allowed-cnp' && workloadOf(flow.destination) === 'echo-a');
      if (!verdict && Date.now() > deadline) throw new Error('no pod-to-a-allowed-cnp → echo-a policy verdict');
      if (!verdict) await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    expect(verdict).toMatchObject({
      verdict: 'FORWARDED',
      Type: 'L3_L4',
      event_type: { type: 5, sub_type: 2 },
      traffic_direction: 'EGRESS',
      policy_match_type: 2,
      is_reply: false,
      l4: { TCP: { destination_port: 8080 } },
      egress_allowed_by: [{ name: 'pod-to-a-allowed-cnp', namespace: 'default', kind: 'CiliumNetworkPolicy' }],
    });
    expect(verdict.trace_observation_point).toBeUndefined();
  }, 120_000);

  it('the FQDN policy lets www.google.com through and drops another external name', async () => {
    const FQDN_POD = 'pod-to-external-fqdn-allow-google-cnp';
    // A TCP connect from the pod, as its probe makes one (the probe keeps www.google.com's DNS answer fresh).
    const connect = (ip: string) => execInPod('default', FQDN_POD, ['timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${ip}/80`]);
    expect((await connect('198.51.100.14')).code).toBe(0); // www.google.com
    expect((await connect('192.0.2.11')).code).not.toBe(0); // one.one.one.one
    const deadline = Date.now() + 30_000;
    let drop: Flow | undefined;
    while (!drop) {
      drop = (await droppedFlows(['--to-ip', '192.0.2.11'])).find((flow) => workloadOf(flow.source) === FQDN_POD);
      if (!drop && Date.now() > deadline) throw new Error(`no ${FQDN_POD} → 192.0.2.11 drop among the DROPPED flows`);
      if (!drop) await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    expect(drop).toMatchObject({
      drop_reason_desc: 'POLICY_DENIED',
      l4: { TCP: { destination_port: 80 } },
      egress_denied_by: [{ name: FQDN_POD, namespace: 'default', kind: 'CiliumNetworkPolicy' }],
    });
  }, 90_000);
});
