import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { allocateLabServices, clusterDnsAddress, labServiceDnsRecords } from './labServices.ts';

const svc = (name: string, spec: V1Service['spec'], namespace = 'default'): V1Service => ({ metadata: { name, namespace }, spec });

const pod = (name: string, ip: string, ready: boolean): V1Pod => ({
  metadata: { name, namespace: 'default', labels: { name: 'echo-b' } },
  spec: { nodeName: 'tycho-node-2', containers: [{ name: 'main', image: 'tycho/echo' }] },
  status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('allocateLabServices', () => {
  it('keeps kube-dns on 10.96.0.10, gives others a ClusterIP in 10.96.0.0/12 and leaves headless ones without', () => {
    const out = allocateLabServices([
      svc('kube-dns', { clusterIP: '10.96.0.10', selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }, 'kube-system'),
      svc('echo-a', { selector: { name: 'echo-a' }, ports: [{ port: 8080 }] }),
      svc('echo-b-headless', { clusterIP: 'None', selector: { name: 'echo-b' }, ports: [{ port: 8080 }] }),
    ]);
    expect(out[0]?.spec?.clusterIP).toBe('10.96.0.10');
    expect(out[1]?.spec?.clusterIP).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    expect(out[2]?.spec?.clusterIP).toBe('None');
    expect(clusterDnsAddress(out)).toBe('10.96.0.10');
  });

  it('keeps fixed node ports and allocates the missing ones from 30000-32767', () => {
    const out = allocateLabServices([
      svc('b', { type: 'NodePort', selector: { name: 'b' }, ports: [{ port: 8080, nodePort: 31414 }] }),
      svc('c', { type: 'NodePort', selector: { name: 'c' }, ports: [{ port: 80 }] }),
    ]);
    expect(out[0]?.spec?.ports?.[0]?.nodePort).toBe(31414);
    expect(out[1]?.spec?.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    expect(out[1]?.spec?.ports?.[0]?.nodePort).toBeLessThanOrEqual(32767);
  });

  it('refuses two services on the same node port, naming the service and field', () => {
    expect(() =>
      allocateLabServices([
        svc('x', { type: 'NodePort', selector: { name: 'x' }, ports: [{ port: 80, nodePort: 31000 }] }),
        svc('y', { type: 'NodePort', selector: { name: 'y' }, ports: [{ port: 80, nodePort: 31000 }] }),
      ]),
    ).toThrow(/Service default\/y: spec\.ports\[0\]\.nodePort: 31000 is already a node port of Service default\/x/);
  });
});

describe('labServiceDnsRecords', () => {
  it('answers a ClusterIP service with its ClusterIP and a headless one with its ready pods', () => {
    const services = allocateLabServices([
      svc('echo-b', { clusterIP: '10.96.0.50', selector: { name: 'echo-b' }, ports: [{ port: 8080 }] }),
      svc('echo-b-headless', { clusterIP: 'None', selector: { name: 'echo-b' }, ports: [{ port: 8080 }] }),
    ]);
    const records = labServiceDnsRecords({ services, pods: [pod('b-1', '10.244.1.5', true), pod('b-2', '10.244.1.6', false)], nodes: [] });
    expect(records).toEqual({
      'echo-b.default.svc.cluster.local': ['10.96.0.50'],
      'echo-b-headless.default.svc.cluster.local': ['10.244.1.5'],
    });
  });
});
