import { describe, expect, it } from 'vitest';
import { buildServiceModel } from './serviceModel.ts';
import { formatServiceList, serviceListRows, type ServiceListRow } from './serviceList.ts';
import { labNodes, labPod, seedPods, seedServices, svc, withSlices } from './testObjects.ts';

describe('formatServiceList', () => {
  it("prints the seed's table exactly", () => {
    const rows: ServiceListRow[] = [
      {
        id: 1,
        frontend: { address: '10.96.0.10', port: 53, protocol: 'UDP' },
        type: 'ClusterIP',
        backends: [
          { slot: 1, address: '10.244.0.98', port: 53 },
          { slot: 2, address: '10.244.1.65', port: 53 },
        ],
      },
      { id: 5, frontend: { address: '0.0.0.0', port: 31414, protocol: 'TCP' }, type: 'NodePort', backends: [{ slot: 1, address: '10.244.1.12', port: 8080 }] },
    ];
    expect(formatServiceList(rows)).toBe(
      [
        'ID   Frontend            Service Type   Backend',
        '1    10.96.0.10:53       ClusterIP      1 => 10.244.0.98:53',
        '                                        2 => 10.244.1.65:53',
        '5    0.0.0.0:31414       NodePort       1 => 10.244.1.12:8080',
        '',
      ].join('\n'),
    );
  });

  it('prints only the header when there is no service', () => {
    expect(formatServiceList([])).toBe('ID   Frontend            Service Type   Backend\n');
  });

  it('widens a column for a long frontend and shows the protocol on request', () => {
    const rows: ServiceListRow[] = [{ id: 12, frontend: { address: '203.0.113.200', port: 32767, protocol: 'TCP' }, type: 'LoadBalancer', backends: [] }];
    expect(formatServiceList(rows, { protocols: 'always' })).toBe(
      ['ID   Frontend                  Service Type   Backend', '12   203.0.113.200:32767/TCP   LoadBalancer', ''].join('\n'),
    );
  });
});

describe('serviceListRows', () => {
  it("lists node 1's frontends of the seed services, telling kube-dns's UDP and TCP apart", () => {
    const model = buildServiceModel(withSlices({ services: seedServices(), pods: seedPods(), nodes: labNodes }));
    const ip = (name: string) => model.services.find((s) => s.name === name)?.clusterIP as string;
    const frontend = (text: string) => text.padEnd(Math.max(20, `${ip('echo-a')}:8080`.length + 3, `${ip('echo-b')}:8080`.length + 3));
    const table = formatServiceList(serviceListRows(model, 'tycho-node-1'));
    const lines = table.split('\n');
    const indent = ' '.repeat(5 + frontend('').length + 15);
    expect(lines).toEqual([
      `ID   ${frontend('Frontend')}Service Type   Backend`,
      `1    ${frontend(`${ip('echo-a')}:8080`)}ClusterIP      1 => 10.244.0.12:8080`,
      `2    ${frontend(`${ip('echo-b')}:8080`)}ClusterIP      1 => 10.244.1.12:8080`,
      `3    ${frontend('0.0.0.0:31414')}NodePort       1 => 10.244.1.12:8080`,
      `4    ${frontend('172.18.0.2:31414')}NodePort       1 => 10.244.1.12:8080`,
      `6    ${frontend('10.96.0.10:53/UDP')}ClusterIP      1 => 10.244.0.98:53`,
      `${indent}2 => 10.244.1.65:53`,
      `7    ${frontend('10.96.0.10:53/TCP')}ClusterIP      1 => 10.244.0.98:53`,
      `${indent}2 => 10.244.1.65:53`,
      '',
    ]);
  });

  it('shows only the local backend of an externalTrafficPolicy Local NodePort, and none on a node without one', () => {
    const model = buildServiceModel(withSlices({
      services: [svc('np', { type: 'NodePort', externalTrafficPolicy: 'Local', selector: { app: 'np' }, ports: [{ port: 80, nodePort: 30080 }] })],
      pods: [labPod('np-1', { labels: { app: 'np' }, node: 'tycho-node-2', ip: '10.244.1.9' })],
      nodes: labNodes,
    }));
    const nodePortBackends = (node: string) =>
      serviceListRows(model, node)
        .filter((row) => row.type === 'NodePort')
        .map((row) => `${row.frontend.address} ${row.backends.map((b) => b.address).join(',')}`);
    expect(nodePortBackends('tycho-node-1')).toEqual(['0.0.0.0 ', '172.18.0.2 ']);
    expect(nodePortBackends('tycho-node-2')).toEqual(['0.0.0.0 10.244.1.9', '172.18.0.3 10.244.1.9']);
  });
});
