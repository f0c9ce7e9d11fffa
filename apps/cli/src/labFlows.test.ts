import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow, GetFlowsResponse } from '@tycho/flow';
import { readLabState, type LabState } from '@tycho/lab';
import { isAlive, labNamespaces, run, tycho } from './labTestSupport.ts';

/*
 * The lab end to end, through the `tycho` command a user runs: bring the
 * two-node lab up, find pod-to-a's connections to echo-a among the flows the
 * agents captured with the eBPF programs, then take the lab down and check
 * that nothing it made is left on the machine.
 */

async function observeAll(): Promise<Flow[]> {
  const out = await tycho(['observe', '--all', '-o', 'json', '--pod', 'default/echo-a'], 60_000);
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as GetFlowsResponse)
    .flatMap((response) => (response.flow ? [response.flow] : []));
}

const workloadOf = (endpoint: Flow['source']) => endpoint?.workloads?.[0]?.name;
const isTcpTo8080 = (flow: Flow) => flow.l4?.TCP?.destination_port === 8080 || flow.l4?.TCP?.source_port === 8080;

/** pod-to-a ↔ echo-a TCP flows, in either direction. */
function podToAFlows(flows: Flow[]): Flow[] {
  return flows.filter((flow) => {
    const pair = [workloadOf(flow.source), workloadOf(flow.destination)].sort().join(' ');
    return pair === 'echo-a pod-to-a' && isTcpTo8080(flow);
  });
}

/** Polls the agents until pod-to-a's probe has opened, answered and closed a connection. */
async function waitForPodToAConnection(deadlineMs: number): Promise<Flow[]> {
  for (;;) {
    const flows = podToAFlows(await observeAll());
    const hasSyn = flows.some((f) => f.l4?.TCP?.flags?.SYN && !f.l4.TCP.flags.ACK && !f.is_reply);
    const hasSynAck = flows.some((f) => f.l4?.TCP?.flags?.SYN && f.l4.TCP.flags.ACK && f.is_reply);
    const hasFin = flows.some((f) => f.l4?.TCP?.flags?.FIN);
    if (hasSyn && hasSynAck && hasFin) return flows;
    if (Date.now() > deadlineMs) throw new Error(`no complete pod-to-a → echo-a connection seen; flows so far: ${JSON.stringify(flows.slice(0, 5))}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}




describe('tycho lab', () => {
  let state: LabState;

  beforeAll(async () => {
    await tycho(['lab', 'up', '--detach']);
    const current = readLabState();
    if (!current) throw new Error('lab up returned but wrote no lab state');
    state = current;
  }, 300_000);

  afterAll(async () => {
    await tycho(['lab', 'down']);
  }, 120_000);

  it('sees pod-to-a → echo-a connections as flows with pods, namespaces, labels, nodes and identities', async () => {
    const flows = await waitForPodToAConnection(Date.now() + 120_000);
    const podToA = state.pods.find((pod) => pod.owner === 'Deployment/default/pod-to-a');
    const echoA = state.pods.find((pod) => pod.owner === 'Deployment/default/echo-a');
    expect(podToA?.ip).toBeDefined();
    expect(echoA?.ip).toBeDefined();

    const syn = flows.find((f) => f.l4?.TCP?.flags?.SYN && !f.l4.TCP.flags.ACK && f.trace_observation_point === 'FROM_ENDPOINT');
    expect(syn).toMatchObject({
      verdict: 'FORWARDED',
      is_reply: false,
      traffic_direction: 'EGRESS',
      node_name: podToA?.node,
      IP: { source: podToA?.ip, destination: echoA?.ip, ipVersion: 'IPv4' },
      l4: { TCP: { destination_port: 8080 } },
      source: { namespace: 'default', pod_name: podToA?.name, workloads: [{ name: 'pod-to-a', kind: 'Deployment' }] },
      destination: { namespace: 'default', pod_name: echoA?.name, workloads: [{ name: 'echo-a', kind: 'Deployment' }] },
    });
    expect(syn?.source?.labels).toEqual(expect.arrayContaining(['k8s:name=pod-to-a', 'k8s:io.kubernetes.pod.namespace=default']));
    expect(syn?.destination?.labels).toEqual(expect.arrayContaining(['k8s:name=echo-a']));

    const synAck = flows.find((f) => f.l4?.TCP?.flags?.SYN && f.l4.TCP.flags.ACK);
    expect(synAck).toMatchObject({
      is_reply: true,
      IP: { source: echoA?.ip, destination: podToA?.ip },
      l4: { TCP: { source_port: 8080, destination_port: syn?.l4?.TCP?.source_port } },
    });

    const arrival = flows.find((f) => f.trace_observation_point === 'TO_ENDPOINT' && !f.is_reply && f.l4?.TCP?.flags?.SYN);
    expect(arrival).toMatchObject({ node_name: echoA?.node, traffic_direction: 'INGRESS', destination: { pod_name: echoA?.name } });

    const identities = (name: string) => new Set(flows.flatMap((f) => [f.source, f.destination]).filter((e) => workloadOf(e) === name).map((e) => e?.identity));
    // One label set, one identity, whichever node observed the flow.
    expect([...identities('pod-to-a')]).toHaveLength(1);
    expect([...identities('echo-a')]).toHaveLength(1);
    expect([...identities('pod-to-a')][0]).toBeGreaterThanOrEqual(256);
    expect([...identities('echo-a')][0]).not.toBe([...identities('pod-to-a')][0]);
  }, 180_000);

  it('lab status lists the connectivity-check deployments', async () => {
    const table = await tycho(['lab', 'status'], 30_000);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(table).toMatch(/^echo-a\s+1\/1\s+1\s+1\s+\S+$/m);
    expect(table).toMatch(/^pod-to-a\s+\d\/1/m);
  }, 60_000);

  it('lab down leaves no lab namespace, link, pin, cgroup or process', async () => {
    const pids = [state.supervisorPid, ...state.nodes.flatMap((n) => n.agentPid ?? []), ...state.pods.flatMap((p) => p.pids)];
    expect(pids.length).toBeGreaterThan(state.pods.length);

    await tycho(['lab', 'down']);

    expect(await labNamespaces()).toEqual([]);
    const { stdout: links } = await run('ip', ['-o', 'link', 'show']);
    expect(links.split('\n').filter((line) => /\b(lxc[0-9a-f]{11}|tycho-)/.test(line))).toEqual([]);
    expect(existsSync('/sys/fs/bpf/tycho')).toBe(false);
    expect(existsSync('/sys/fs/cgroup/unified/tycho')).toBe(false);
    expect(existsSync('/run/tycho')).toBe(false);
    expect(pids.filter(isAlive)).toEqual([]);
  }, 120_000);
});
