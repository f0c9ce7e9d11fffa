import { describe, expect, it } from 'vitest';
import { resolveServiceName, serviceDnsRecords } from './serviceDns.ts';
import { buildServiceModel } from './serviceModel.ts';
import { labNodes, labPod, seedPods, seedServices, withSlices } from './testObjects.ts';

describe('serviceDnsRecords', () => {
  const model = buildServiceModel(withSlices({
    services: seedServices(),
    pods: [
      ...seedPods(),
      labPod('echo-b-host-7c9d', { labels: { name: 'echo-b-host' }, node: 'tycho-node-2', ip: '172.18.0.3' }),
      labPod('echo-b-2', { labels: { name: 'echo-b' }, node: 'tycho-node-1', ip: '10.244.0.41', ready: false }),
    ],
    nodes: labNodes,
  }));
  const records = serviceDnsRecords(model);

  it('answers the ClusterIP for normal services', () => {
    expect(records['kube-dns.kube-system.svc.cluster.local']).toEqual(['10.96.0.10']);
    expect(records['echo-a.default.svc.cluster.local']).toEqual([model.services.find((s) => s.name === 'echo-a')?.clusterIP]);
    expect(records['echo-b.default.svc.cluster.local']).toEqual([model.services.find((s) => s.name === 'echo-b')?.clusterIP]);
  });

  it('answers the ready pod IPs for headless services, also without ports', () => {
    expect(records['echo-b-headless.default.svc.cluster.local']).toEqual(['10.244.1.12']);
    expect(records['echo-b-host-headless.default.svc.cluster.local']).toEqual(['172.18.0.3']);
  });

  it('answers a headless service without ready pods with no address rather than not at all', () => {
    const empty = serviceDnsRecords(buildServiceModel(withSlices({ services: seedServices(), pods: [], nodes: labNodes })));
    expect(empty['echo-b-headless.default.svc.cluster.local']).toEqual([]);
  });

  it('resolves short names through the pod search path, and the FQDN with a final dot', () => {
    const echoA = records['echo-a.default.svc.cluster.local'];
    expect(resolveServiceName(records, 'echo-a', 'default')).toEqual(echoA);
    expect(resolveServiceName(records, 'echo-a.default', 'kube-system')).toEqual(echoA);
    expect(resolveServiceName(records, 'echo-a.default.svc', 'kube-system')).toEqual(echoA);
    expect(resolveServiceName(records, 'Echo-A.default.svc.cluster.local.', 'kube-system')).toEqual(echoA);
    expect(resolveServiceName(records, 'kube-dns.kube-system', 'default')).toEqual(['10.96.0.10']);
  });

  it('finds nothing for unknown names and for short names from another namespace', () => {
    expect(resolveServiceName(records, 'echo-c', 'default')).toBeUndefined();
    expect(resolveServiceName(records, 'echo-a', 'kube-system')).toBeUndefined();
    expect(resolveServiceName(records, 'echo-a.', 'default')).toBeUndefined();
  });
});
