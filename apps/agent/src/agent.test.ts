import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DatapathCounters, EndpointInfo, FlowEvent } from '@tycho/datapath';
import type { GetFlowsResponse } from '@tycho/flow';
import { startAgent, type Agent, type AgentDatapath } from './agent.ts';
import { startTestCluster, type TestCluster } from './clusterState.fixture.ts';

/** Stands in for NodeDatapath: records attachments, lets the test emit events and losses. */
class RecordingDatapath implements AgentDatapath {
  readonly attached = new Map<number, EndpointInfo>();
  lostEvents = 0;
  private listener: ((batch: FlowEvent[]) => void) | undefined;

  attachEndpoint(ifindex: number, info: EndpointInfo): void {
    this.attached.set(ifindex, info);
  }
  detachEndpoint(ifindex: number): void {
    this.attached.delete(ifindex);
  }
  onEvents(cb: (batch: FlowEvent[]) => void): void {
    this.listener = cb;
  }
  counters(): DatapathCounters {
    return { lostEvents: this.lostEvents, packets: 0, events: 0, parseErrors: 0 };
  }
  bootNsToWallMs(tsNs: number): number {
    return Date.UTC(2024, 0, 1) + tsNs / 1e6;
  }
  emit(batch: FlowEvent[]): void {
    this.listener?.(batch);
  }
}

let dir: string;
let datapath: RecordingDatapath;
let agent: Agent;
let cluster: TestCluster;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-agent-'));
  cluster = await startTestCluster();
  cluster.put('pods', {
    metadata: { name: 'echo-a-6d9c8-x1', namespace: 'default', labels: { name: 'echo-a' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'echo-a-6d9c8', uid: 'u' }] },
    spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'tycho/echo' }] },
    status: { podIP: '10.244.0.5' },
  });
  datapath = new RecordingDatapath();
  agent = await startAgent({
    nodeName: 'node-1',
    socketPath: join(dir, 'node-1', 'agent.sock'),
    stateDir: join(dir, 'node-1'),
    cluster: cluster.clusterState('node-1'),
    ringCapacity: 63,
    datapath,
    lostEventsPollMs: 5,
    log: () => {},
  });
});
afterEach(async () => {
  await agent.stop();
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

function register(body: object): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dir, 'node-1', 'agent.sock'), method: 'POST', path: '/v1/endpoints', agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function observeAll(): Promise<GetFlowsResponse[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${join(dir, 'node-1', 'agent.sock')}:/v1/observe`);
    const received: GetFlowsResponse[] = [];
    ws.on('open', () => ws.send('{}'));
    ws.on('message', (data) => received.push(...(JSON.parse(data.toString()) as GetFlowsResponse[])));
    ws.on('close', () => resolve(received));
    ws.on('error', reject);
  });
}

describe('agent', () => {
  it('registers a pod, attaches it, and serves its datapath events as enriched flows', async () => {
    const reply = await register({
      containerId: 'c1', podName: 'echo-a-6d9c8-x1', namespace: 'default', netns: '/run/netns/x', ifname: 'eth0',
      hostIfname: 'lxcecho', hostIfindex: 31, ipv4: '10.244.0.5',
    });
    expect(reply.status).toBe(201);
    const { id, identity } = JSON.parse(reply.body) as { id: number; identity: number };
    expect(datapath.attached.get(31)).toEqual({ endpointId: id, identity, flags: 0 });

    datapath.emit([{
      tsNs: 1e9, type: 4, subType: 1, obsPoint: 101, verdict: 1, ifindex: 31, endpointId: id, isReply: false, tcpFlags: 0x02,
      dropReason: 0, policyMatch: 0, family: 4, proto: 6, saddr: '192.0.2.1', daddr: '10.244.0.5', sport: 40000, dport: 8080,
      srcIdentity: 0, dstIdentity: 0, packetsFwd: 1, bytesFwd: 60, packetsRev: 0, bytesRev: 0, pktLen: 60, payload: undefined,
    }]);
    const [response] = await observeAll();
    expect(response?.flow).toMatchObject({
      time: '2024-01-01T00:00:01Z',
      source: { identity: 2, labels: ['reserved:world'] },
      destination: { ID: id, identity, pod_name: 'echo-a-6d9c8-x1', workloads: [{ name: 'echo-a', kind: 'Deployment' }] },
      traffic_direction: 'INGRESS',
      interface: { index: 31, name: 'lxcecho' },
    });
  });

  it('serves a packet whose only news is L7 payload to L7 parsing, not as an L3/L4 flow', async () => {
    const dnsEvent = (subType: number, sport: number): FlowEvent => ({
      tsNs: 2e9, type: 4, subType, obsPoint: 5, verdict: 1, ifindex: 32, endpointId: 0, isReply: false, tcpFlags: 0,
      dropReason: 0, policyMatch: 0, family: 4, proto: 17, saddr: '10.244.0.5', daddr: '10.244.1.2', sport, dport: 53,
      srcIdentity: 0, dstIdentity: 0, packetsFwd: 2, bytesFwd: 140, packetsRev: 0, bytesRev: 0, pktLen: 70, payload: new Uint8Array([1, 2]),
    });
    datapath.emit([dnsEvent(4 /* PAYLOAD */, 40001), dnsEvent(1 /* NEW */, 40002)]);
    const responses = await observeAll();
    expect(responses.map((r) => r.flow?.l4)).toEqual([{ UDP: { source_port: 40002, destination_port: 53 } }]);
  });

  it('reports growth of the datapath’s lost-event counter as PERF_EVENT_RING_BUFFER losses', async () => {
    datapath.lostEvents = 4;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (agent.observer.status().lost_events > 0) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    const responses = await observeAll();
    expect(responses.map((r) => r.lost_events)).toEqual([{ source: 'PERF_EVENT_RING_BUFFER', num_events_lost: 4 }]);
  });
  it('turns DNS and HTTP payload into L7 flows, and names later flows to answered addresses', async () => {
    const packet = (tsNs: number, obsPoint: number, from: [string, number], to: [string, number], proto: number, payload: Uint8Array, isReply: boolean): FlowEvent => ({
      tsNs, type: 4, subType: 4, obsPoint, verdict: 1, ifindex: 33, endpointId: 0, isReply, tcpFlags: proto === 6 ? 0x18 : 0,
      dropReason: 0, policyMatch: 0, family: 4, proto, saddr: from[0], daddr: to[0], sport: from[1], dport: to[1],
      srcIdentity: 0, dstIdentity: 0, packetsFwd: 1, bytesFwd: 100, packetsRev: 1, bytesRev: 100, pktLen: 100, payload,
    });
    const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
    const ascii = (text: string) => new TextEncoder().encode(text);
    const client: [string, number] = ['10.244.0.5', 40000];
    const dns: [string, number] = ['10.244.1.2', 53];
    const httpClient: [string, number] = ['10.244.0.5', 51000];
    const echo: [string, number] = ['10.244.1.9', 8080];
    // The client is not a pod of this node, so messages are reported where the server's endpoint sees them.
    const TO_ENDPOINT = 101;
    const FROM_ENDPOINT = 5;
    datapath.emit([
      packet(1e9, TO_ENDPOINT, client, dns, 17, hex('0007 0100 0001 0000 0000 0000 03 777777 06 676f6f676c65 03 636f6d 00 0001 0001'), false),
      packet(1.002e9, FROM_ENDPOINT, dns, client, 17, hex('0007 8180 0001 0001 0000 0000 03 777777 06 676f6f676c65 03 636f6d 00 0001 0001 c00c 0001 0001 0000001e 0004 c633640e'), true),
      packet(2e9, TO_ENDPOINT, httpClient, echo, 6, ascii('GET /public HTTP/1.1\r\nHost: echo-a:8080\r\n\r\n'), false),
      packet(2.005e9, FROM_ENDPOINT, echo, httpClient, 6, ascii('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}'), true),
      { ...packet(3e9, FROM_ENDPOINT, ['10.244.0.5', 52000], ['198.51.100.14', 443], 6, new Uint8Array(), false), subType: 1, tcpFlags: 0x02, payload: undefined },
    ]);
    const flows = (await observeAll()).flatMap((response) => (response.flow ? [response.flow] : []));
    expect(flows.filter((flow) => flow.Type === 'L7').map((flow) => [flow.event_type, flow.l7?.type, flow.Summary])).toEqual([
      [{ type: 129 }, 'REQUEST', 'DNS Query www.google.com. A'],
      [{ type: 129 }, 'RESPONSE', 'DNS Answer "198.51.100.14" TTL: 30 (Proxy www.google.com. A)'],
      [{ type: 129 }, 'REQUEST', 'HTTP/1.1 GET http://echo-a:8080/public'],
      [{ type: 129 }, 'RESPONSE', 'HTTP/1.1 200 5ms (GET http://echo-a:8080/public)'],
    ]);
    expect(flows.find((flow) => flow.l7?.http?.code === 200)?.l7).toMatchObject({ latency_ns: 5_000_000, http: { method: 'GET', url: 'http://echo-a:8080/public' } });
    const toGoogle = flows.find((flow) => flow.IP?.destination === '198.51.100.14');
    expect(toGoogle).toMatchObject({ Type: 'L3_L4', destination_names: ['www.google.com'] });
  });
});
