import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { allocateServiceAddresses } from './serviceAddresses.ts';

const svc = (name: string, spec: V1Service['spec']): V1Service => ({ metadata: { name, namespace: 'default' }, spec });

describe('allocateServiceAddresses', () => {
  it('gives ClusterIPs to services without one and keeps fixed and headless ones', () => {
    const out = allocateServiceAddresses([svc('dns', { clusterIP: '10.96.0.10' }), svc('a', {}), svc('h', { clusterIP: 'None' })]);
    expect(out.map((s) => s.spec?.clusterIP)).toEqual(['10.96.0.10', '10.96.0.100', 'None']);
  });

  it('allocates nodePorts only for NodePort services without one', () => {
    const out = allocateServiceAddresses([
      svc('b', { type: 'NodePort', ports: [{ port: 8080, nodePort: 31414 }] }),
      svc('c', { type: 'NodePort', ports: [{ port: 80 }] }),
      svc('d', { ports: [{ port: 80 }] }),
    ]);
    expect(out.map((s) => s.spec?.ports?.[0]?.nodePort)).toEqual([31414, 30000, undefined]);
    expect(out[2]?.spec?.ports?.[0]).toMatchObject({ protocol: 'TCP', targetPort: 80 });
  });

  it('rejects two services with the same fixed ClusterIP', () => {
    expect(() => allocateServiceAddresses([svc('x', { clusterIP: '10.96.0.10' }), svc('y', { clusterIP: '10.96.0.10' })])).toThrow(/already taken/);
  });
});
