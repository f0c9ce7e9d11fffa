import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EndpointInfo } from '@tycho/datapath';
import { EndpointManager, type EndpointDatapath } from './endpointManager.ts';
import type { EndpointRegistration } from './endpointRegistration.ts';
import type { PodSecurity } from './ipCache.ts';

/** Records what the manager asks of the datapath; refuses ifindexes listed in `missing`. */
class RecordingDatapath implements EndpointDatapath {
  readonly attached = new Map<number, EndpointInfo>();
  readonly calls: string[] = [];
  readonly missing = new Set<number>();

  attachEndpoint(ifindex: number, info: EndpointInfo): void {
    this.calls.push(`attach ${ifindex} ep${info.endpointId} id${info.identity}`);
    if (this.missing.has(ifindex)) throw new Error(`no interface with index ${ifindex}`);
    this.attached.set(ifindex, info);
  }

  detachEndpoint(ifindex: number): void {
    this.calls.push(`detach ${ifindex}`);
    this.attached.delete(ifindex);
  }
}

const securityByPod: Record<string, PodSecurity> = {
  'default/echo-a': { identity: 300, labels: ['k8s:app=echo-a', 'k8s:io.kubernetes.pod.namespace=default'], workloads: [] },
  'default/client': { identity: 301, labels: ['k8s:app=client', 'k8s:io.kubernetes.pod.namespace=default'], workloads: [] },
};

function resolvePod(namespace: string, podName: string): PodSecurity {
  return securityByPod[`${namespace}/${podName}`] ?? { identity: 999, labels: [], workloads: [] };
}

function registration(containerId: string, podName: string, hostIfindex: number, ipv4: string): EndpointRegistration {
  return { containerId, podName, namespace: 'default', netns: `/run/netns/${podName}`, ifname: 'eth0', hostIfname: `lxc${hostIfindex}`, hostIfindex, ipv4 };
}

let stateDir: string;
let datapath: RecordingDatapath;
const manager = () => new EndpointManager({ stateDir, datapath, resolvePod });

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'tycho-endpoints-'));
  datapath = new RecordingDatapath();
});
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

describe('EndpointManager', () => {
  it('attaches a registered endpoint with a small id and the pod’s identity', () => {
    const endpoint = manager().register(registration('c1', 'echo-a', 20, '10.244.0.5'));
    expect(endpoint).toMatchObject({ id: 1, identity: 300 });
    expect(datapath.attached.get(20)).toEqual({ endpointId: 1, identity: 300, flags: 0 });
  });

  it('gives each endpoint on the node its own id and reuses freed ones', () => {
    const endpoints = manager();
    endpoints.register(registration('c1', 'echo-a', 20, '10.244.0.5'));
    endpoints.register(registration('c2', 'client', 21, '10.244.0.6'));
    endpoints.deregister('c1');
    expect(endpoints.register(registration('c3', 'echo-a', 22, '10.244.0.7')).id).toBe(1);
    expect(endpoints.list().map((e) => [e.containerId, e.id])).toEqual([['c3', 1], ['c2', 2]]);
  });

  it('persists each endpoint to <state-dir>/endpoints/<containerId>.json', () => {
    manager().register(registration('c1', 'echo-a', 20, '10.244.0.5'));
    const saved = JSON.parse(readFileSync(join(stateDir, 'endpoints', 'c1.json'), 'utf8'));
    expect(saved).toMatchObject({ containerId: 'c1', podName: 'echo-a', id: 1, identity: 300, hostIfindex: 20, ipv4: '10.244.0.5' });
  });

  it('restores persisted endpoints in a new manager and attaches them again', () => {
    const before = manager();
    before.register(registration('c1', 'echo-a', 20, '10.244.0.5'));
    before.register(registration('c2', 'client', 21, '10.244.0.6'));
    datapath = new RecordingDatapath();
    const restarted = manager();
    expect(restarted.restore().map((e) => e.containerId).sort()).toEqual(['c1', 'c2']);
    expect(datapath.calls.sort()).toEqual(['attach 20 ep1 id300', 'attach 21 ep2 id301']);
    expect(restarted.byIp('10.244.0.6')?.podName).toBe('client');
    expect(restarted.byIfindex(20)?.containerId).toBe('c1');
  });

  it('gives a restored endpoint a fresh id when its saved id is already taken', () => {
    manager().register(registration('c1', 'echo-a', 20, '10.244.0.5'));
    manager().register(registration('c2', 'client', 21, '10.244.0.6'));
    const ids = manager().restore().map((e) => e.id).sort();
    expect(ids).toEqual([1, 2]);
  });

  it('drops persisted endpoints whose veth is gone or whose state is unreadable', () => {
    manager().register(registration('c1', 'echo-a', 20, '10.244.0.5'));
    writeFileSync(join(stateDir, 'endpoints', 'broken.json'), '{"containerId": 5');
    datapath = new RecordingDatapath();
    datapath.missing.add(20);
    expect(manager().restore()).toEqual([]);
    expect(existsSync(join(stateDir, 'endpoints', 'c1.json'))).toBe(false);
    expect(existsSync(join(stateDir, 'endpoints', 'broken.json'))).toBe(false);
  });

  it('detaches on deregister, forgets the state, and treats unknown containers as already gone', () => {
    const endpoints = manager();
    endpoints.register(registration('c1', 'echo-a', 20, '10.244.0.5'));
    endpoints.deregister('c1');
    endpoints.deregister('c1');
    expect(datapath.attached.size).toBe(0);
    expect(datapath.calls).toEqual(['attach 20 ep1 id300', 'detach 20']);
    expect(existsSync(join(stateDir, 'endpoints', 'c1.json'))).toBe(false);
  });

  it('keeps the endpoint id when a container registers again with a new veth, detaching the old one', () => {
    const endpoints = manager();
    endpoints.register(registration('c1', 'echo-a', 20, '10.244.0.5'));
    expect(endpoints.register(registration('c1', 'echo-a', 25, '10.244.0.5')).id).toBe(1);
    expect(datapath.calls).toEqual(['attach 20 ep1 id300', 'detach 20', 'attach 25 ep1 id300']);
  });
});
