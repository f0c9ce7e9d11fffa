import { describe, expect, it } from 'vitest';
import {
  affinityKeyString,
  clientIpAffinityKey,
  indexServiceMaps,
  maglevBackendId,
  randomBackendSlot,
  selectBackend,
  type AffinityValue,
  type BackendRequest,
} from './backendSelection.ts';
import { buildServiceModel } from './serviceModel.ts';
import { compileServiceMaps } from './serviceMaps.ts';
import { labNodes, labPod, svc, withSlices } from './testObjects.ts';

/** A deterministic stand-in for Math.random: cycles through the given values. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

const pods = [
  labPod('web-1', { labels: { app: 'web' }, node: 'tycho-node-1', ip: '10.244.0.5' }),
  labPod('web-2', { labels: { app: 'web' }, node: 'tycho-node-2', ip: '10.244.1.5' }),
];

function indexFor(spec: Parameters<typeof svc>[1], node = 'tycho-node-1', podList = pods) {
  const model = buildServiceModel(withSlices({ services: [svc('web', { clusterIP: '10.96.0.80', selector: { app: 'web' }, ...spec })], pods: podList, nodes: labNodes }));
  return { model, index: indexServiceMaps(compileServiceMaps(model, node, { algorithm: 'maglev', maglevTableSize: 251 })) };
}

const request = (extra: Partial<BackendRequest> = {}): BackendRequest => ({
  address: '10.96.0.80',
  port: 80,
  protocol: 'TCP',
  fromOutside: false,
  clientAddress: '10.244.0.99',
  nowSeconds: 1000,
  ...extra,
});

describe('randomBackendSlot', () => {
  it('maps [0, 1) onto slots 1..count and has no slot without backends', () => {
    expect(randomBackendSlot(3, () => 0)).toBe(1);
    expect(randomBackendSlot(3, () => 0.5)).toBe(2);
    expect(randomBackendSlot(3, () => 0.9999999)).toBe(3);
    expect(randomBackendSlot(0, () => 0.5)).toBeUndefined();
  });
});

describe('maglevBackendId', () => {
  it('looks the flow hash up modulo the table size, 0 meaning none', () => {
    const table = Uint32Array.from([7, 8, 0]);
    expect(maglevBackendId(table, 4)).toBe(8);
    expect(maglevBackendId(table, 5)).toBeUndefined();
    expect(maglevBackendId(table, 0xffffffff)).toBe(7);
  });
});

describe('clientIpAffinityKey', () => {
  it('keys affinity by service id and client address, and refuses a bad address', () => {
    expect(affinityKeyString(clientIpAffinityKey(5, '10.244.0.9'))).toBe('5/10.244.0.9');
    expect(() => clientIpAffinityKey(5, '10.244.0')).toThrow("affinity: client address '10.244.0' is not an IPv4 address");
    expect(() => clientIpAffinityKey(0, '10.244.0.9')).toThrow('affinity: service id 0 is not a positive integer');
  });
});

describe('selectBackend', () => {
  it('picks the slot the random draw names', () => {
    const { model, index } = indexFor({ ports: [{ port: 80 }] });
    const [first, second] = model.frontends[0]?.backends ?? [];
    expect(selectBackend(index, request(), new Map(), () => 0)).toEqual({ kind: 'backend', revNatIndex: 1, backendId: first?.id, slot: 1 });
    expect(selectBackend(index, request(), new Map(), () => 0.7)).toEqual({ kind: 'backend', revNatIndex: 1, backendId: second?.id, slot: 2 });
  });

  it('tells an address that is no service from a service without backends', () => {
    const { index } = indexFor({ ports: [{ port: 80 }] }, 'tycho-node-1', []);
    expect(selectBackend(index, request({ port: 81 }), new Map())).toEqual({ kind: 'not-a-service' });
    expect(selectBackend(index, request(), new Map())).toEqual({ kind: 'no-backend', revNatIndex: 1 });
  });

  it('keeps a ClientIP client on its backend until the timeout passes', () => {
    const { index } = indexFor({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] });
    const affinity = new Map<string, AffinityValue>();
    const first = selectBackend(index, request(), affinity, () => 0);
    const again = selectBackend(index, request({ nowSeconds: 1050 }), affinity, () => 0.9);
    expect(again).toEqual(first);
    const otherClient = selectBackend(index, request({ clientAddress: '10.244.1.99', nowSeconds: 1050 }), affinity, () => 0.9);
    expect(otherClient).not.toEqual(first);
    const expired = selectBackend(index, request({ nowSeconds: 1050 + 61 }), affinity, () => 0.9);
    expect(expired).not.toEqual(first);
  });

  it('uses the Maglev table for traffic from outside, the same backend for the same flow hash', () => {
    const { index } = indexFor({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
    const outside = request({ address: '172.18.0.2', port: 30080, fromOutside: true, flowHash: 12345 });
    const picks = new Set([0, 0.5, 0.99].map((r) => JSON.stringify(selectBackend(index, outside, new Map(), sequence(r)))));
    expect(picks.size).toBe(1);
  });

  it('sends traffic from outside to node-local backends under externalTrafficPolicy Local, and in-cluster traffic to all', () => {
    const { model, index } = indexFor({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30080 }] }, 'tycho-node-2');
    const local = model.frontends[0]?.backends.find((b) => b.nodeName === 'tycho-node-2')?.id;
    const nodePort = request({ address: '172.18.0.3', port: 30080 });
    for (const r of [0, 0.99]) expect(selectBackend(index, { ...nodePort, fromOutside: true }, new Map(), () => r)).toMatchObject({ backendId: local });
    const inside = new Set([0, 0.99].map((r) => (selectBackend(index, nodePort, new Map(), () => r) as { backendId: number }).backendId));
    expect(inside.size).toBe(2);
  });
});
