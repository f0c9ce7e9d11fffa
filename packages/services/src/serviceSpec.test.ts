import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { parseServiceSpec, ServiceError } from './serviceSpec.ts';
import { svc } from './testObjects.ts';

function errorOf(service: V1Service): string {
  try {
    parseServiceSpec(service);
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError);
    return (err as Error).message;
  }
  throw new Error('expected parseServiceSpec to throw');
}

describe('parseServiceSpec', () => {
  it('applies Kubernetes defaults: ClusterIP, TCP, targetPort = port, namespace default', () => {
    const spec = parseServiceSpec({ metadata: { name: 'echo-a' }, spec: { selector: { name: 'echo-a' }, ports: [{ port: 8080 }] } });
    expect(spec).toEqual({
      namespace: 'default',
      name: 'echo-a',
      type: 'ClusterIP',
      clusterIP: undefined,
      selector: { name: 'echo-a' },
      ports: [{ name: '', port: 8080, protocol: 'TCP', targetPort: 8080, nodePort: undefined }],
      externalIPs: [],
      loadBalancerIP: undefined,
      sessionAffinity: undefined,
      externalTrafficPolicy: 'Cluster',
    });
  });

  it('reads ClientIP affinity with Kubernetes default timeout of 10800 s, or the configured one', () => {
    expect(parseServiceSpec(svc('a', { sessionAffinity: 'ClientIP' })).sessionAffinity).toEqual({ timeoutSeconds: 10800 });
    expect(
      parseServiceSpec(svc('a', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })).sessionAffinity,
    ).toEqual({ timeoutSeconds: 60 });
  });

  it('takes the load-balancer address from status before spec.loadBalancerIP', () => {
    const service: V1Service = { ...svc('lb', { type: 'LoadBalancer', loadBalancerIP: '203.0.113.200' }), status: { loadBalancer: { ingress: [{ ip: '203.0.113.150' }] } } };
    expect(parseServiceSpec(service).loadBalancerIP).toBe('203.0.113.150');
  });

  it('rejects a port out of range, naming the field', () => {
    expect(errorOf(svc('a', { ports: [{ port: 70000 }] }))).toBe('Service default/a: spec.ports[0].port: expected a port from 1 to 65535');
    expect(errorOf(svc('a', { ports: [{ port: 0 }] }))).toBe('Service default/a: spec.ports[0].port: expected a port from 1 to 65535');
  });

  it('rejects a nodePort outside 30000-32767', () => {
    expect(errorOf(svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] }))).toBe(
      'Service default/b: spec.ports[0].nodePort: expected a port in the NodePort range 30000-32767',
    );
  });

  it('rejects a nodePort on a ClusterIP service', () => {
    expect(errorOf(svc('b', { ports: [{ port: 80, nodePort: 31000 }] }))).toBe(
      'Service default/b: spec.ports[0].nodePort: only NodePort and LoadBalancer services have node ports',
    );
  });

  it('rejects invalid IPs in clusterIP, externalIPs and loadBalancerIP', () => {
    expect(errorOf(svc('a', { clusterIP: '10.96.0.300' }))).toBe('Service default/a: spec.clusterIP: expected an IPv4 address, None or empty');
    expect(errorOf(svc('a', { externalIPs: ['192.0.2.1', 'not-an-ip'] }))).toBe('Service default/a: spec.externalIPs[1]: expected an IPv4 address');
    expect(errorOf(svc('a', { type: 'LoadBalancer', loadBalancerIP: '203.0.113' }))).toBe('Service default/a: spec.loadBalancerIP: expected an IPv4 address or empty');
  });

  it('rejects unsupported types and protocols', () => {
    expect(errorOf(svc('a', { type: 'ExternalName' }))).toBe(
      'Service default/a: spec.type: expected ClusterIP, NodePort or LoadBalancer (ExternalName is not load-balanced)',
    );
    expect(errorOf(svc('a', { ports: [{ port: 80, protocol: 'ICMP' }] }))).toBe('Service default/a: spec.ports[0].protocol: expected TCP, UDP or SCTP');
  });

  it('requires names on the ports of a multi-port service, and unique ones', () => {
    expect(errorOf(svc('a', { ports: [{ port: 80 }, { port: 443, name: 'https' }] }))).toBe(
      'Service default/a: spec.ports[0].name: required when a service has more than one port',
    );
    expect(errorOf(svc('a', { ports: [{ port: 80, name: 'web' }, { port: 443, name: 'web' }] }))).toBe(
      "Service default/a: spec.ports[1].name: 'web' is used by another port of this service",
    );
  });

  it('rejects the same port and protocol twice, but allows one port over TCP and UDP', () => {
    expect(errorOf(svc('a', { ports: [{ port: 53, name: 'a' }, { port: 53, name: 'b' }] }))).toBe('Service default/a: spec.ports[1].port: 53/TCP is listed twice');
    expect(parseServiceSpec(svc('a', { ports: [{ port: 53, name: 'a', protocol: 'UDP' }, { port: 53, name: 'b' }] })).ports).toHaveLength(2);
  });

  it('rejects a headless NodePort service and a bad name', () => {
    expect(errorOf(svc('a', { type: 'NodePort', clusterIP: 'None' }))).toBe('Service default/a: spec.clusterIP: None (headless) needs type ClusterIP, not NodePort');
    expect(errorOf(svc('Echo_A', {}))).toBe('Service default/Echo_A: metadata.name: expected a DNS label (lower-case letters, digits and -)');
  });

  it('rejects a bad targetPort name and an out-of-range affinity timeout', () => {
    expect(errorOf(svc('a', { ports: [{ port: 80, targetPort: 'Not A Name' as never }] }))).toMatch(/^Service default\/a: spec\.ports\[0\]\.targetPort: /);
    expect(errorOf(svc('a', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }))).toBe(
      'Service default/a: spec.sessionAffinityConfig.clientIP.timeoutSeconds: expected 1 to 86400 seconds',
    );
  });
});
