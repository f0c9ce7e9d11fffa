import { describe, expect, it } from 'vitest';
import { buildDnsRecords, lookupA, searchDomains, type PodDnsSource } from './dnsRecords.ts';

const pod = (name: string, app: string, ip: string, ready = true): PodDnsSource => ({ namespace: 'default', name, labels: { name: app }, ip, ready });

describe('buildDnsRecords', () => {
  const records = buildDnsRecords({
    pods: [pod('echo-b-1', 'echo-b', '10.244.1.5'), pod('echo-b-2', 'echo-b', '10.244.0.9', false), pod('echo-a-1', 'echo-a', '10.244.0.7')],
    serviceRecords: {
      'echo-b.default.svc.cluster.local': ['10.96.93.17'],
      'echo-b-headless.default.svc.cluster.local': ['10.244.1.5'],
      'idle.default.svc.cluster.local': [],
    },
    world: [{ name: 'www.google.com', ip: '198.51.100.14' }],
  });

  it("answers service names with their records (a ClusterIP, or a headless service's pods)", () => {
    expect(lookupA(records, 'echo-b.default.svc.cluster.local')).toEqual({ rcode: 'NOERROR', ips: ['10.96.93.17'] });
    expect(lookupA(records, 'echo-b-headless.default.svc.cluster.local.')).toEqual({ rcode: 'NOERROR', ips: ['10.244.1.5'] });
  });

  it('knows a service without ready pods but has no address for it', () => {
    expect(lookupA(records, 'idle.default.svc.cluster.local')).toEqual({ rcode: 'NOERROR', ips: [] });
  });

  it('answers pod names and dashed pod IPs', () => {
    expect(lookupA(records, 'echo-a-1.default.pod.cluster.local')).toEqual({ rcode: 'NOERROR', ips: ['10.244.0.7'] });
    expect(lookupA(records, '10-244-0-7.default.pod.cluster.local')).toEqual({ rcode: 'NOERROR', ips: ['10.244.0.7'] });
  });

  it('answers the world hosts case-insensitively and nothing else', () => {
    expect(lookupA(records, 'WWW.Google.com')).toEqual({ rcode: 'NOERROR', ips: ['198.51.100.14'] });
    expect(lookupA(records, 'www.google.com.default.svc.cluster.local')).toEqual({ rcode: 'NXDOMAIN' });
  });
});

describe('searchDomains', () => {
  it('lists namespace, svc and cluster domains like kubelet', () => {
    expect(searchDomains('default')).toEqual(['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
  });
});
