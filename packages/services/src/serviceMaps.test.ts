import { describe, expect, it } from 'vitest';
import { buildServiceModel, type ServiceModel } from './serviceModel.ts';
import { compileServiceMaps, diffServiceMaps, serviceMapKeyString, serviceMapOps, type ServiceMapEntries } from './serviceMaps.ts';
import { labNodes, labPod, seedPods, seedServices, svc, withSlices } from './testObjects.ts';

const seedModel = (pods = seedPods(), previous?: ServiceModel) =>
  buildServiceModel(withSlices({ services: seedServices(), pods, nodes: labNodes }), previous ? { previous } : {});

function entriesAt(maps: ServiceMapEntries, address: string, port: number): string[] {
  return maps.services
    .filter((e) => e.key.address === address && e.key.port === port)
    .map((e) => `${serviceMapKeyString(e.key)} backend=${e.value.backendId} count=${e.value.count} revnat=${e.value.revNatIndex}`);
}

describe('compileServiceMaps', () => {
  it("writes echo-b's frontends on node 1: its ClusterIP, 0.0.0.0:31414 and node 1's address, not node 2's", () => {
    const model = seedModel();
    const maps = compileServiceMaps(model, 'tycho-node-1');
    const echoB = model.frontends.filter((f) => f.serviceName === 'echo-b');
    const backendId = echoB[0]?.backends[0]?.id;
    for (const frontend of echoB.filter((f) => f.node !== 'tycho-node-2')) {
      expect(entriesAt(maps, frontend.address, frontend.port)).toEqual([
        `${frontend.address}:${frontend.port}/TCP/external#0 backend=0 count=1 revnat=${frontend.id}`,
        `${frontend.address}:${frontend.port}/TCP/external#1 backend=${backendId} count=0 revnat=${frontend.id}`,
      ]);
      expect(maps.revNat).toContainEqual({ index: frontend.id, address: frontend.address, port: frontend.port });
    }
    expect(entriesAt(maps, '172.18.0.3', 31414)).toEqual([]);
    expect(maps.backends).toContainEqual({ id: backendId, address: '10.244.1.12', port: 8080, protocol: 'TCP', state: 'active' });
  });

  it('flags ClusterIP frontends as not routable and NodePort ones as routable', () => {
    const maps = compileServiceMaps(seedModel(), 'tycho-node-1');
    const flagsAt = (address: string, port: number) => maps.services.find((e) => e.key.address === address && e.key.port === port)?.value.flags;
    expect(flagsAt('10.96.0.10', 53)).toEqual({ type: 'ClusterIP', sessionAffinity: false, externalLocal: false, twoScopes: false, routable: false, maglev: false });
    expect(flagsAt('0.0.0.0', 31414)).toEqual({ type: 'NodePort', sessionAffinity: false, externalLocal: false, twoScopes: false, routable: true, maglev: false });
  });

  it('gives kube-dns one frontend entry and two slots per protocol', () => {
    const maps = compileServiceMaps(seedModel(), 'tycho-node-2');
    const slots = maps.services.filter((e) => e.key.address === '10.96.0.10').map((e) => `${e.key.protocol}#${e.key.backendSlot}`);
    expect(slots).toEqual(['TCP#0', 'TCP#1', 'TCP#2', 'UDP#0', 'UDP#1', 'UDP#2']);
  });

  it('writes count 0 for a frontend without ready backends, so the datapath refuses it', () => {
    const model = buildServiceModel(withSlices({ services: [svc('idle', { clusterIP: '10.96.0.50', selector: { app: 'none' }, ports: [{ port: 80 }] })], pods: [], nodes: labNodes }));
    expect(entriesAt(compileServiceMaps(model, 'tycho-node-1'), '10.96.0.50', 80)).toEqual([
      `10.96.0.50:80/TCP/external#0 backend=0 count=0 revnat=1`,
    ]);
  });

  it('splits externalTrafficPolicy Local frontends into node-local external and cluster-wide internal entries', () => {
    const model = buildServiceModel(withSlices({
      services: [svc('np', { type: 'NodePort', externalTrafficPolicy: 'Local', selector: { app: 'np' }, ports: [{ port: 80, nodePort: 30080 }] })],
      pods: [
        labPod('np-1', { labels: { app: 'np' }, node: 'tycho-node-1', ip: '10.244.0.9' }),
        labPod('np-2', { labels: { app: 'np' }, node: 'tycho-node-2', ip: '10.244.1.9' }),
      ],
      nodes: labNodes,
    }));
    const maps = compileServiceMaps(model, 'tycho-node-2');
    const [first, second] = model.backends;
    const frontend = maps.services.filter((e) => e.key.address === '0.0.0.0');
    expect(frontend.map((e) => `${e.key.scope}#${e.key.backendSlot} ${e.value.backendId}/${e.value.count}`)).toEqual([
      `external#0 0/1`,
      `external#1 ${second?.id}/0`,
      `internal#0 0/2`,
      `internal#1 ${first?.id}/0`,
      `internal#2 ${second?.id}/0`,
    ]);
    expect(frontend[0]?.value.flags).toMatchObject({ externalLocal: true, twoScopes: true });
  });

  it('puts the ClientIP affinity timeout on the frontend entry', () => {
    const model = buildServiceModel(withSlices({
      services: [svc('s', { clusterIP: '10.96.0.60', selector: { app: 's' }, sessionAffinity: 'ClientIP', ports: [{ port: 80 }] })],
      pods: [labPod('s-1', { labels: { app: 's' }, node: 'tycho-node-1', ip: '10.244.0.9' })],
      nodes: labNodes,
    }));
    const [frontendEntry, slot] = compileServiceMaps(model, 'tycho-node-1').services;
    expect(frontendEntry?.value).toMatchObject({ affinityTimeoutSeconds: 10800, flags: { sessionAffinity: true } });
    expect(slot?.value.affinityTimeoutSeconds).toBe(0);
  });

  it('builds Maglev tables only with the maglev algorithm, for routable frontends with backends', () => {
    const model = seedModel();
    expect(compileServiceMaps(model, 'tycho-node-1').maglev).toEqual([]);
    const maps = compileServiceMaps(model, 'tycho-node-1', { algorithm: 'maglev', maglevTableSize: 251 });
    const routable = model.frontends.filter((f) => f.type !== 'ClusterIP' && f.node !== 'tycho-node-2').map((f) => f.id);
    expect(maps.maglev.map((m) => m.revNatIndex)).toEqual(routable);
    const echoBBackend = model.frontends.find((f) => f.serviceName === 'echo-b')?.backends[0]?.id;
    expect(maps.maglev.every((m) => m.backendIds.length === 251 && m.backendIds.every((id) => id === echoBBackend))).toBe(true);    const flagged = new Set(maps.services.filter((e) => e.value.flags.maglev).map((e) => e.value.revNatIndex));
    expect([...flagged].sort((a, b) => a - b)).toEqual(routable);
  });
});

describe('diffServiceMaps', () => {
  const secondEchoB = labPod('echo-b-5f7c9d6b4-zz9yy', { labels: { name: 'echo-b' }, node: 'tycho-node-1', ip: '10.244.0.40', ready: false, ports: [{ containerPort: 8080 }] });
  const ready = { ...secondEchoB, status: { ...secondEchoB.status, conditions: [{ type: 'Ready', status: 'True' }] } };

  it('is empty between the same maps', () => {
    const maps = compileServiceMaps(seedModel(), 'tycho-node-1');
    expect(diffServiceMaps(maps, compileServiceMaps(seedModel(), 'tycho-node-1'))).toEqual({
      services: { upsert: [], delete: [] },
      backends: { upsert: [], delete: [] },
      revNat: { upsert: [], delete: [] },
      maglev: { upsert: [], delete: [] },
    });
  });

  it("adds the backend and a slot to each of echo-b's frontends when a second echo-b pod turns ready, touching nothing else", () => {
    const before = seedModel([...seedPods(), secondEchoB]);
    const after = seedModel([...seedPods(), ready], before);
    const diff = diffServiceMaps(compileServiceMaps(before, 'tycho-node-1'), compileServiceMaps(after, 'tycho-node-1'));
    const newBackend = after.backends.find((b) => b.address === '10.244.0.40');
    expect(diff.backends).toEqual({ upsert: [{ ...newBackend, state: 'active' }], delete: [] });
    expect(diff.services.delete).toEqual([]);
    const echoBFrontends = after.frontends.filter((f) => f.serviceName === 'echo-b' && f.node !== 'tycho-node-2');
    // 10.244.0.40 sorts before 10.244.1.12: it takes slot 1, the old backend moves to slot 2.
    expect(diff.services.upsert.map((e) => `${e.key.address}:${e.key.port}#${e.key.backendSlot}`).sort()).toEqual(
      echoBFrontends.flatMap((f) => [0, 1, 2].map((slot) => `${f.address}:${f.port}#${slot}`)).sort(),
    );
    expect(diff.revNat).toEqual({ upsert: [], delete: [] });
  });

  it('removes the slot and the backend when the pod turns unready again', () => {
    const readyModel = seedModel([...seedPods(), ready]);
    const unready = seedModel([...seedPods(), secondEchoB], readyModel);
    const diff = diffServiceMaps(compileServiceMaps(readyModel, 'tycho-node-1'), compileServiceMaps(unready, 'tycho-node-1'));
    expect(diff.backends.delete).toEqual([readyModel.backends.find((b) => b.address === '10.244.0.40')?.id]);
    expect(diff.services.delete.every((key) => key.backendSlot === 2)).toBe(true);
    expect(diff.services.delete).toHaveLength(3);
  });

  it('removes every entry of a deleted service, and upserts every entry of a new one', () => {
    const before = seedModel();
    const after = buildServiceModel(withSlices({ services: seedServices().filter((s) => s.metadata?.name !== 'echo-a'), pods: seedPods(), nodes: labNodes }), { previous: before });
    const echoA = before.frontends.find((f) => f.serviceName === 'echo-a');
    const diff = diffServiceMaps(compileServiceMaps(before, 'tycho-node-1'), compileServiceMaps(after, 'tycho-node-1'));
    expect(diff.services.delete.map((k) => `${k.address}:${k.port}#${k.backendSlot}`)).toEqual([`${echoA?.address}:8080#0`, `${echoA?.address}:8080#1`]);
    expect(diff.revNat.delete).toEqual([echoA?.id]);
    expect(diff.backends.delete).toEqual([echoA?.backends[0]?.id]);
    const back = diffServiceMaps(compileServiceMaps(after, 'tycho-node-1'), compileServiceMaps(before, 'tycho-node-1'));
    expect(back.services.upsert).toHaveLength(2);
  });
});

describe('serviceMapOps', () => {
  it('orders writes so no slot points at a missing backend and no count covers a missing slot', () => {
    const before = seedModel();
    const withSecond = seedModel(
      [...seedPods(), labPod('echo-a-2', { labels: { name: 'echo-a' }, node: 'tycho-node-2', ip: '10.244.1.77', ports: [{ containerPort: 8080 }] })],
      before,
    );
    const up = serviceMapOps(diffServiceMaps(compileServiceMaps(before, 'tycho-node-1'), compileServiceMaps(withSecond, 'tycho-node-1')));
    expect(up.map((op) => `${op.map}:${op.op}${op.map === 'services' && op.op === 'upsert' ? `#${op.entry.key.backendSlot}` : ''}`)).toEqual([
      'backends:upsert',
      'services:upsert#2',
      'services:upsert#0',
    ]);
    const down = serviceMapOps(diffServiceMaps(compileServiceMaps(withSecond, 'tycho-node-1'), compileServiceMaps(seedModel(seedPods(), withSecond), 'tycho-node-1')));
    expect(down.map((op) => `${op.map}:${op.op}${op.map === 'services' && op.op === 'delete' ? `#${op.key.backendSlot}` : ''}`)).toEqual([
      'services:upsert',
      'services:delete#2',
      'backends:delete',
    ]);
  });
});
