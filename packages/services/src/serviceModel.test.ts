import type { V1EndpointSlice } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildServiceModel, externalBackends, nodeFrontends, type Frontend, type ServiceModel } from './serviceModel.ts';
import { labNodes, labPod, seedPods, seedServices, svc, withSlices } from './testObjects.ts';

const seedModel = () => buildServiceModel(withSlices({ services: seedServices(), pods: seedPods(), nodes: labNodes }));

function frontendsOf(model: ServiceModel, name: string): { type: string; at: string; node: string | undefined; backends: string[] }[] {
  return model.frontends
    .filter((f) => f.serviceName === name)
    .map((f) => ({ type: f.type, at: `${f.address}:${f.port}/${f.protocol}`, node: f.node, backends: f.backends.map((b) => `${b.address}:${b.port}`) }));
}

describe('buildServiceModel on the seed manifests', () => {
  it('gives echo-a (ClusterIP) one frontend on an allocated ClusterIP with the echo-a pod behind it', () => {
    const model = seedModel();
    const clusterIP = model.services.find((s) => s.name === 'echo-a')?.clusterIP;
    expect(frontendsOf(model, 'echo-a')).toEqual([{ type: 'ClusterIP', at: `${clusterIP}:8080/TCP`, node: undefined, backends: ['10.244.0.12:8080'] }]);
  });

  it('gives echo-b (NodePort 31414) its ClusterIP, 0.0.0.0:31414 and 31414 on each node address', () => {
    const model = seedModel();
    const clusterIP = model.services.find((s) => s.name === 'echo-b')?.clusterIP;
    const backends = ['10.244.1.12:8080'];
    expect(frontendsOf(model, 'echo-b')).toEqual([
      { type: 'ClusterIP', at: `${clusterIP}:8080/TCP`, node: undefined, backends },
      { type: 'NodePort', at: '0.0.0.0:31414/TCP', node: undefined, backends },
      { type: 'NodePort', at: '172.18.0.2:31414/TCP', node: 'tycho-node-1', backends },
      { type: 'NodePort', at: '172.18.0.3:31414/TCP', node: 'tycho-node-2', backends },
    ]);
  });

  it('gives headless services no frontend, but their ready pods', () => {
    const model = seedModel();
    expect(frontendsOf(model, 'echo-b-headless')).toEqual([]);
    expect(model.services.find((s) => s.name === 'echo-b-headless')).toMatchObject({ headless: true, clusterIP: 'None', readyPods: [{ ip: '10.244.1.12' }] });
    expect(model.services.find((s) => s.name === 'echo-b-host-headless')?.ports).toEqual([]);
  });

  it('gives kube-dns 10.96.0.10:53 over UDP and TCP with both coredns pods', () => {
    expect(frontendsOf(seedModel(), 'kube-dns')).toEqual([
      { type: 'ClusterIP', at: '10.96.0.10:53/UDP', node: undefined, backends: ['10.244.0.98:53', '10.244.1.65:53'] },
      { type: 'ClusterIP', at: '10.96.0.10:53/TCP', node: undefined, backends: ['10.244.0.98:53', '10.244.1.65:53'] },
    ]);
  });

  it('numbers frontends 1..n and backends once however many frontends share them', () => {
    const model = seedModel();
    expect(model.frontends.map((f) => f.id)).toEqual(model.frontends.map((_, i) => i + 1));
    expect(model.backends.map((b) => `${b.address}:${b.port}/${b.protocol}`).sort()).toEqual([
      '10.244.0.12:8080/TCP',
      '10.244.0.98:53/TCP',
      '10.244.0.98:53/UDP',
      '10.244.1.12:8080/TCP',
      '10.244.1.65:53/TCP',
      '10.244.1.65:53/UDP',
    ]);
    expect(model.backends.map((b) => b.id)).toEqual([1, 2, 3, 4, 5, 6]);
    const echoB = model.frontends.filter((f) => f.serviceName === 'echo-b').map((f) => f.backends[0]?.id);
    expect(new Set(echoB).size).toBe(1);
  });

  it('gives the same model for the same objects in any order', () => {
    const reversed = buildServiceModel(withSlices({ services: seedServices().reverse(), pods: seedPods().reverse(), nodes: [...labNodes].reverse() }));
    expect(reversed).toEqual(seedModel());
  });
});

describe('buildServiceModel backends', () => {
  const web = svc('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' as never }] });

  it('uses only ready pods of the same namespace that the selector picks', () => {
    const model = buildServiceModel(withSlices({
      services: [web],
      pods: [
        labPod('web-1', { labels: { app: 'web' }, node: 'tycho-node-1', ip: '10.244.0.5', ports: [{ name: 'http', containerPort: 8080 }] }),
        labPod('web-2', { labels: { app: 'web' }, node: 'tycho-node-1', ip: '10.244.0.6', ready: false, ports: [{ name: 'http', containerPort: 8080 }] }),
        labPod('web-3', { labels: { app: 'web' }, namespace: 'other', node: 'tycho-node-1', ip: '10.244.0.7', ports: [{ name: 'http', containerPort: 8080 }] }),
        labPod('api-1', { labels: { app: 'api' }, node: 'tycho-node-1', ip: '10.244.0.8', ports: [{ name: 'http', containerPort: 8080 }] }),
      ],
      nodes: labNodes,
    }));
    expect(model.frontends[0]?.backends.map((b) => b.podName)).toEqual(['web-1']);
  });

  it('resolves a named targetPort per pod, and leaves out pods without that port', () => {
    const model = buildServiceModel(withSlices({
      services: [web],
      pods: [
        labPod('web-1', { labels: { app: 'web' }, node: 'tycho-node-1', ip: '10.244.0.5', ports: [{ name: 'http', containerPort: 8080 }] }),
        labPod('web-2', { labels: { app: 'web' }, node: 'tycho-node-2', ip: '10.244.1.5', ports: [{ name: 'http', containerPort: 9090 }] }),
        labPod('web-3', { labels: { app: 'web' }, node: 'tycho-node-2', ip: '10.244.1.6', ports: [{ name: 'metrics', containerPort: 9100 }] }),
        labPod('web-4', { labels: { app: 'web' }, node: 'tycho-node-2', ip: '10.244.1.7', ports: [{ name: 'http', containerPort: 8080, protocol: 'UDP' }] }),
      ],
      nodes: labNodes,
    }));
    expect(model.frontends[0]?.backends.map((b) => `${b.address}:${b.port}`)).toEqual(['10.244.0.5:8080', '10.244.1.5:9090']);
  });

  it('serves each of several ports with its own frontends and target ports', () => {
    const model = buildServiceModel(withSlices({
      services: [svc('multi', { selector: { app: 'm' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 9100 }] })],
      pods: [labPod('m-1', { labels: { app: 'm' }, node: 'tycho-node-1', ip: '10.244.0.5' })],
      nodes: labNodes,
    }));
    expect(model.frontends.map((f) => `${f.portName} ${f.port} -> ${f.backends[0]?.port}`)).toEqual(['http 80 -> 8080', 'metrics 9100 -> 9100']);
  });

  it('ignores pods that have no IP yet', () => {
    const pod = labPod('web-1', { labels: { app: 'web' }, node: 'tycho-node-1', ip: '10.244.0.5' });
    delete pod.status?.podIP;
    expect(buildServiceModel(withSlices({ services: [web], pods: [pod], nodes: labNodes })).frontends[0]?.backends).toEqual([]);
  });

  it('rejects a pod whose IP is not IPv4, naming the pod', () => {
    const pod = labPod('web-1', { labels: { app: 'web' }, node: 'tycho-node-1', ip: '10.244.0' });
    expect(() => buildServiceModel(withSlices({ services: [web], pods: [pod], nodes: labNodes }))).toThrow("Pod default/web-1: status.podIP: '10.244.0' is not an IPv4 address");
  });
});

describe('buildServiceModel backends from EndpointSlices', () => {
  const external = svc('external-db', { clusterIP: '10.96.0.70', ports: [{ name: 'sql', port: 5432 }] });
  const slice = (name: string, endpoints: V1EndpointSlice['endpoints'], ports: V1EndpointSlice['ports'] = [{ name: 'sql', port: 15432, protocol: 'TCP' }]): V1EndpointSlice => ({
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': 'external-db' } },
    addressType: 'IPv4',
    endpoints,
    ports,
  });

  it('serves a selector-less Service from its hand-made slices, not from pods', () => {
    const model = buildServiceModel({
      services: [external],
      endpointSlices: [
        slice('external-db-1', [{ addresses: ['192.168.10.5'] }, { addresses: ['192.168.10.6'], conditions: { ready: true }, nodeName: 'tycho-node-2' }]),
        slice('external-db-2', [{ addresses: ['192.168.10.7'], conditions: { ready: false } }]),
      ],
      nodes: labNodes,
    });
    expect(frontendsOf(model, 'external-db')).toEqual([
      { type: 'ClusterIP', at: '10.96.0.70:5432/TCP', node: undefined, backends: ['192.168.10.5:15432', '192.168.10.6:15432'] },
    ]);
    expect(model.services[0]?.readyPods).toEqual([
      { name: '192.168.10.5', ip: '192.168.10.5', nodeName: undefined },
      { name: '192.168.10.6', ip: '192.168.10.6', nodeName: 'tycho-node-2' },
    ]);
  });

  it('takes a slice port by the service port name and protocol, and skips slices of other services and address types', () => {
    const model = buildServiceModel({
      services: [external],
      endpointSlices: [
        slice('external-db-udp', [{ addresses: ['192.168.10.8'] }], [{ name: 'sql', port: 15432, protocol: 'UDP' }]),
        { ...slice('external-db-v6', [{ addresses: ['fd00::8'] }]), addressType: 'IPv6' },
        { ...slice('other', [{ addresses: ['192.168.10.9'] }]), metadata: { name: 'other', namespace: 'default', labels: { 'kubernetes.io/service-name': 'other' } } },
      ],
      nodes: labNodes,
    });
    expect(model.frontends[0]?.backends).toEqual([]);
  });

  it('rejects an address that is not IPv4 in an IPv4 slice, naming the slice', () => {
    expect(() => buildServiceModel({ services: [external], endpointSlices: [slice('external-db-1', [{ addresses: ['192.168.10'] }])], nodes: labNodes })).toThrow(
      "EndpointSlice default/external-db-1: endpoints[0].addresses[0]: '192.168.10' is not an IPv4 address",
    );
  });
});

describe('buildServiceModel service kinds', () => {
  const pods = [
    labPod('lb-1', { labels: { app: 'lb' }, node: 'tycho-node-1', ip: '10.244.0.5' }),
    labPod('lb-2', { labels: { app: 'lb' }, node: 'tycho-node-2', ip: '10.244.1.5' }),
  ];

  it('adds a frontend per external IP and one on the LoadBalancer address, next to ClusterIP and NodePort', () => {
    const model = buildServiceModel(withSlices({
      services: [svc('lb', { type: 'LoadBalancer', selector: { app: 'lb' }, externalIPs: ['192.0.2.50'], ports: [{ port: 80, nodePort: 30080 }] })],
      pods,
      nodes: labNodes,
    }));
    const lbIP = model.services[0]?.loadBalancerIP;
    expect(model.frontends.map((f) => `${f.type} ${f.address}:${f.port}`)).toEqual([
      `ClusterIP ${model.services[0]?.clusterIP}:80`,
      'NodePort 0.0.0.0:30080',
      'NodePort 172.18.0.2:30080',
      'NodePort 172.18.0.3:30080',
      'ExternalIPs 192.0.2.50:80',
      `LoadBalancer ${lbIP}:80`,
    ]);
  });

  it('marks NodePort, ExternalIPs and LoadBalancer frontends local under externalTrafficPolicy Local, and picks per node', () => {
    const model = buildServiceModel(withSlices({
      services: [svc('lb', { type: 'LoadBalancer', selector: { app: 'lb' }, externalTrafficPolicy: 'Local', externalIPs: ['192.0.2.50'], ports: [{ port: 80 }] })],
      pods,
      nodes: labNodes,
    }));
    expect(model.frontends.map((f) => [f.type, f.externalTrafficLocal])).toEqual([
      ['ClusterIP', false],
      ['NodePort', true],
      ['NodePort', true],
      ['NodePort', true],
      ['ExternalIPs', true],
      ['LoadBalancer', true],
    ]);
    const nodePort = model.frontends[1] as Frontend;
    expect(externalBackends(nodePort, 'tycho-node-1').map((b) => b.podName)).toEqual(['lb-1']);
    expect(externalBackends(nodePort, 'tycho-node-2').map((b) => b.podName)).toEqual(['lb-2']);
    expect(externalBackends(model.frontends[0] as Frontend, 'tycho-node-1')).toHaveLength(2);
  });

  it('carries ClientIP session affinity onto every frontend of the service', () => {
    const model = buildServiceModel(withSlices({
      services: [svc('s', { type: 'NodePort', selector: { app: 'lb' }, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } }, ports: [{ port: 80 }] })],
      pods,
      nodes: labNodes,
    }));
    expect(model.frontends.map((f) => f.sessionAffinity)).toEqual(Array(4).fill({ timeoutSeconds: 30 }));
  });

  it('lists for a node only its own node-address NodePort frontends', () => {
    const model = seedModel();
    const addresses = nodeFrontends(model, 'tycho-node-1').filter((f) => f.type === 'NodePort').map((f) => f.address);
    expect(addresses).toEqual(['0.0.0.0', '172.18.0.2']);
  });

  it('refuses two services on the same address, port and protocol', () => {
    expect(() =>
      buildServiceModel(withSlices({
        services: [svc('a', { externalIPs: ['192.0.2.50'], ports: [{ port: 80 }] }), svc('b', { externalIPs: ['192.0.2.50'], ports: [{ port: 80 }] })],
        pods: [],
        nodes: labNodes,
      })),
    ).toThrow('Service default/b: spec.externalIPs: ExternalIPs frontend 192.0.2.50:80/TCP is already the ExternalIPs frontend of Service default/a');
  });

  it('refuses the same service twice', () => {
    expect(() => buildServiceModel(withSlices({ services: [svc('a', {}), svc('a', {})], pods: [], nodes: labNodes }))).toThrow(
      'Service default/a: metadata.name: the same service is listed twice',
    );
  });
});

describe('buildServiceModel ids', () => {
  it('keeps frontend and backend ids across rebuilds when services come and go', () => {
    const first = seedModel();
    const idOf = (model: ServiceModel, at: string) => model.frontends.find((f) => `${f.address}:${f.port}/${f.protocol}` === at)?.id;
    const extra = svc('aaa', { selector: { name: 'echo-a' }, ports: [{ port: 9999 }] });
    const second = buildServiceModel(withSlices({ services: [extra, ...seedServices()], pods: seedPods(), nodes: labNodes }), { previous: first });
    for (const frontend of first.frontends) expect(idOf(second, `${frontend.address}:${frontend.port}/${frontend.protocol}`)).toBe(frontend.id);
    expect(second.frontends.find((f) => f.serviceName === 'aaa')?.id).toBe(first.frontends.length + 1);
    expect(second.backends.filter((b) => first.backends.some((o) => o.id === b.id && o.address === b.address))).toHaveLength(first.backends.length);
    expect(second.services.find((s) => s.name === 'echo-a')?.clusterIP).toBe(first.services.find((s) => s.name === 'echo-a')?.clusterIP);
  });

  it('does not hand a removed frontend id straight to a new frontend', () => {
    const first = seedModel();
    const withoutEchoA = seedServices().filter((s) => s.metadata?.name !== 'echo-a');
    const second = buildServiceModel(withSlices({ services: withoutEchoA, pods: seedPods(), nodes: labNodes }), { previous: first });
    const third = buildServiceModel(withSlices({ services: [...withoutEchoA, svc('new', { ports: [{ port: 1 }] })], pods: seedPods(), nodes: labNodes }), { previous: second });
    const removedId = first.frontends.find((f) => f.serviceName === 'echo-a')?.id;
    expect(third.frontends.find((f) => f.serviceName === 'new')?.id).not.toBe(removedId);
  });
});
