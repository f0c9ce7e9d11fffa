import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { FlowEvent } from '@tycho/datapath';
import type { Flow } from '@tycho/flow';
import { policyObjectsFromText } from '@tycho/policy';
import { startAgent, type Agent, type AgentDatapath } from './agent.ts';
import { startTestCluster, type TestCluster } from './clusterState.fixture.ts';
import { createRecordingPolicyDatapath, type RecordingPolicyDatapath } from './policyDatapath.ts';
import type { PolicyResolverStatus } from './policyResolver.ts';

const ALLOWED_CNP = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: pod-to-a-allowed-cnp }
spec:
  endpointSelector: { matchLabels: { name: pod-to-a-allowed-cnp } }
  egress:
    - toEndpoints: [{ matchLabels: { name: echo-a } }]
      toPorts: [{ ports: [{ port: "8080", protocol: TCP }] }]
`;

let dir: string;
let cluster: TestCluster;
let policyDatapath: RecordingPolicyDatapath;
let agent: Agent;
let emit: (batch: FlowEvent[]) => void = () => {};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-agent-policy-'));
  cluster = await startTestCluster();
  const pod = (name: string, app: string, ip: string) => ({
    metadata: { name, namespace: 'default', labels: { name: app } },
    spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'tycho/echo' }] },
    status: { podIP: ip },
  });
  cluster.put('pods', pod('client-1', 'pod-to-a-allowed-cnp', '10.244.0.7'));
  cluster.put('pods', pod('echo-a-1', 'echo-a', '10.244.0.8'));
  const datapath: AgentDatapath = {
    attachEndpoint: () => {},
    detachEndpoint: () => {},
    onEvents: (cb) => {
      emit = cb;
    },
    counters: () => ({ lostEvents: 0, packets: 0, events: 0, parseErrors: 0 }),
    bootNsToWallMs: (tsNs) => Date.UTC(2024, 0, 1) + tsNs / 1e6,
  };
  policyDatapath = createRecordingPolicyDatapath();
  agent = await startAgent({
    nodeName: 'node-1',
    socketPath: join(dir, 'node-1', 'agent.sock'),
    stateDir: join(dir, 'node-1'),
    cluster: cluster.clusterState('node-1'),
    ringCapacity: 63,
    datapath,
    policyDatapath: policyDatapath.datapath,
    log: () => {},
  });
});
afterEach(async () => {
  await agent.stop();
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

function call(method: string, path: string, body?: object): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dir, 'node-1', 'agent.sock'), method, path, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

async function registerClient(): Promise<number> {
  const reply = await call('POST', '/v1/endpoints', {
    containerId: 'c1', podName: 'client-1', namespace: 'default', netns: '/run/netns/x', ifname: 'eth0', hostIfname: 'lxcclient', hostIfindex: 41, ipv4: '10.244.0.7',
  });
  return (JSON.parse(reply.body) as { id: number }).id;
}

function synFrom(endpointId: number, dport: number, dropReason = 0): FlowEvent {
  return {
    tsNs: 1e9, type: dropReason ? 1 : 4, subType: 0, obsPoint: dropReason ? 0 : 5, verdict: dropReason ? 2 : 1, ifindex: 41, endpointId, isReply: false, tcpFlags: 0x02,
    dropReason, policyMatch: 0, family: 4, proto: 6, saddr: '10.244.0.7', daddr: '10.244.0.8', sport: 40000, dport,
    srcIdentity: 0, dstIdentity: 0, packetsFwd: 1, bytesFwd: 60, packetsRev: 0, bytesRev: 0, pktLen: 60, payload: undefined,
  };
}

describe('agent policy', () => {
  it("gives the policy datapath's ipcache every pod address with its identity, and follows the API server", async () => {
    const identityOf = (address: string) => policyDatapath.hostAddresses().find((host) => host.address === address)?.identity;
    await vi.waitFor(() => expect(identityOf('10.244.0.8')).toBeGreaterThanOrEqual(256));
    expect(policyDatapath.hostAddresses().find((host) => host.address === '10.244.0.7')).toMatchObject({ local: true });
    expect(identityOf('10.244.0.7')).not.toBe(identityOf('10.244.0.8'));

    cluster.put('pods', { metadata: { name: 'echo-b-1', namespace: 'default', labels: { name: 'echo-b' } }, spec: { nodeName: 'node-2', containers: [{ name: 'main', image: 'tycho/echo' }] }, status: { podIP: '10.244.1.9' } });
    await vi.waitFor(() => expect(policyDatapath.hostAddresses().find((host) => host.address === '10.244.1.9')).toMatchObject({ local: false }), { timeout: 5_000 });
  });

  it('resolves a registered endpoint and re-resolves when a policy is applied through the API server', async () => {
    const id = await registerClient();
    await vi.waitFor(() => expect(policyDatapath.endpoints.get(id)?.egress?.enforced).toBe(false));

    const applied = cluster.put('ciliumnetworkpolicies', policyObjectsFromText(ALLOWED_CNP)[0] as KubernetesObject);
    await vi.waitFor(() => expect(policyDatapath.endpoints.get(id)?.egress?.enforced).toBe(true), { timeout: 10_000 });
    // echo-a's identity may still be being allocated through the API when the policy first resolves.
    await vi.waitFor(() => expect(policyDatapath.endpoints.get(id)?.egress?.keys.map((key) => [key.protocol, key.port, key.deny])).toEqual([[6, 8080, false]]), { timeout: 10_000 });

    const status = JSON.parse((await call('GET', '/v1/policies')).body) as PolicyResolverStatus;
    expect(status.revision).toBe(Number(applied.metadata.resourceVersion));
    expect(status.endpoints).toEqual([
      {
        id, namespace: 'default', pod_name: 'client-1', identity: expect.any(Number),
        selected_by: ['CiliumNetworkPolicy default/pod-to-a-allowed-cnp'],
        ingress: { enforced: false, enforced_by: [], rules: 0 },
        egress: { enforced: true, enforced_by: ['CiliumNetworkPolicy default/pod-to-a-allowed-cnp'], rules: 1 },
      },
    ]);

    const deleted = cluster.remove('ciliumnetworkpolicies', 'default', 'pod-to-a-allowed-cnp');
    await vi.waitFor(() => expect(policyDatapath.endpoints.get(id)?.egress?.enforced).toBe(false), { timeout: 10_000 });
    expect(agent.policy.revision).toBe(Number(deleted.metadata.resourceVersion));

    await call('DELETE', '/v1/endpoints/c1');
    await vi.waitFor(() => expect(policyDatapath.calls.at(-1)).toEqual({ op: 'removeEndpoint', endpointId: id }));
  });

  it('names the allowing policy on a forwarded flow and the denying one on a policy drop', async () => {
    const id = await registerClient();
    const revision = Number(cluster.put('ciliumnetworkpolicies', policyObjectsFromText(ALLOWED_CNP)[0] as KubernetesObject).metadata.resourceVersion);
    await vi.waitFor(() => expect(agent.policy.policyOf(id)?.egress.enforced).toBe(true), { timeout: 10_000 });

    emit([synFrom(id, 8080), synFrom(id, 9090, 133)]);
    const held: Flow[] = [];
    agent.observer.getFlows({ number: 10 }, { send: (response) => response.flow && held.push(response.flow), end: () => {} });
    const [forwarded, dropped] = held;
    expect(forwarded).toMatchObject({ verdict: 'FORWARDED', egress_allowed_by: [{ kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'pod-to-a-allowed-cnp', revision }] });
    expect(forwarded?.egress_denied_by).toBeUndefined();
    expect(dropped).toMatchObject({ verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', egress_denied_by: [{ name: 'pod-to-a-allowed-cnp', revision }] });
    // Hubble's field order: the policy fields come before Summary.
    expect(Object.keys(forwarded ?? {}).slice(-2)).toEqual(['egress_allowed_by', 'Summary']);
  });
});
