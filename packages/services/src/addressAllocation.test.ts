import { describe, expect, it } from 'vitest';
import { WORLD_HOSTS } from '../../lab/src/world.ts';
import { allocateServiceAddresses, DEFAULT_LOAD_BALANCER_POOL, DEFAULT_SERVICE_CIDR, serviceObjectWithAddresses } from './addressAllocation.ts';
import { cidrContains, parseIpv4Cidr } from './ipv4.ts';
import { parseServiceSpec, type ServiceSpec } from './serviceSpec.ts';
import { seedServices, svc } from './testObjects.ts';

const specs = (...services: Parameters<typeof svc>[]): ServiceSpec[] => services.map((args) => parseServiceSpec(svc(...args)));

describe('allocateServiceAddresses', () => {
  it('keeps fixed ClusterIPs and headless services, and allocates the rest inside 10.96.0.0/12 above the static band', () => {
    const { specs: out } = allocateServiceAddresses(specs(['kube-dns', { clusterIP: '10.96.0.10' }], ['a', {}], ['h', { clusterIP: 'None' }]));
    expect(out[0]?.clusterIP).toBe('10.96.0.10');
    expect(out[2]?.clusterIP).toBe('None');
    const allocated = out[1]?.clusterIP as string;
    expect(cidrContains(parseIpv4Cidr(DEFAULT_SERVICE_CIDR), allocated)).toBe(true);
    expect(cidrContains(parseIpv4Cidr('10.96.0.0/24'), allocated)).toBe(false);
  });

  it('gives the same addresses for the same services in any order', () => {
    const input = specs(['a', {}], ['b', { type: 'NodePort', ports: [{ port: 80 }] }], ['c', { type: 'LoadBalancer', ports: [{ port: 443 }] }]);
    const forward = allocateServiceAddresses(input);
    const backward = allocateServiceAddresses([...input].reverse());
    expect(backward.allocation).toEqual(forward.allocation);
    expect(allocateServiceAddresses(input).specs).toEqual(forward.specs);
  });

  it('keeps what an earlier run gave out when a newcomer would hash onto it', () => {
    const first = allocateServiceAddresses(specs(['a', {}]), { serviceCidr: '10.96.0.0/30' });
    const clusterIP = first.specs[0]?.clusterIP;
    // 10.96.0.0/30 has two usable addresses: whichever 'a' got, it keeps, and 'b' gets the other.
    const second = allocateServiceAddresses(specs(['b', {}], ['a', {}]), { serviceCidr: '10.96.0.0/30', previous: first.allocation });
    expect(second.specs[1]?.clusterIP).toBe(clusterIP);
    expect(second.specs[0]?.clusterIP).not.toBe(clusterIP);
  });

  it('keeps ClusterIPs, node ports and LoadBalancer addresses of an earlier run, unless a fixed address took them since', () => {
    const previous = {
      clusterIPs: { 'default/a': '10.96.5.5', 'default/z': '10.96.0.10' },
      nodePorts: { 'default/b:/TCP': 30123 },
      loadBalancerIPs: { 'default/c': '203.0.113.140' },
    };
    const { specs: out, allocation } = allocateServiceAddresses(
      specs(['a', {}], ['b', { type: 'NodePort', ports: [{ port: 80 }] }], ['c', { type: 'LoadBalancer', ports: [{ port: 80 }] }], ['kube-dns', { clusterIP: '10.96.0.10' }], ['z', {}]),
      { previous },
    );
    expect(out.map((spec) => spec.clusterIP)[0]).toBe('10.96.5.5');
    expect(out[1]?.ports[0]?.nodePort).toBe(30123);
    expect(out[2]?.loadBalancerIP).toBe('203.0.113.140');
    expect(out[4]?.clusterIP).not.toBe('10.96.0.10');
    expect(allocation.clusterIPs['default/kube-dns']).toBe('10.96.0.10');
  });

  it('allocates node ports in 30000-32767 for NodePort and LoadBalancer services only, keeping given ones', () => {
    const { specs: out } = allocateServiceAddresses(
      specs(['b', { type: 'NodePort', ports: [{ port: 8080, nodePort: 31414 }] }], ['c', { type: 'LoadBalancer', ports: [{ port: 80 }] }], ['d', { ports: [{ port: 80 }] }]),
    );
    expect(out[0]?.ports[0]?.nodePort).toBe(31414);
    const allocated = out[1]?.ports[0]?.nodePort as number;
    expect(allocated).toBeGreaterThanOrEqual(30000);
    expect(allocated).toBeLessThanOrEqual(32767);
    expect(out[2]?.ports[0]?.nodePort).toBeUndefined();
  });

  it('refuses a nodePort two services claim', () => {
    expect(() =>
      allocateServiceAddresses(specs(['x', { type: 'NodePort', ports: [{ port: 80, nodePort: 31414 }] }], ['y', { type: 'NodePort', ports: [{ port: 81, nodePort: 31414 }] }])),
    ).toThrow('Service default/y: spec.ports[0].nodePort: 31414 is already a node port of Service default/x');
  });

  it('refuses a ClusterIP two services claim, and one outside the service CIDR', () => {
    expect(() => allocateServiceAddresses(specs(['x', { clusterIP: '10.96.0.10' }], ['y', { clusterIP: '10.96.0.10' }]))).toThrow(
      'Service default/y: spec.clusterIP: 10.96.0.10 is already the ClusterIP of Service default/x',
    );
    expect(() => allocateServiceAddresses(specs(['x', { clusterIP: '10.200.0.1' }]))).toThrow(
      'Service default/x: spec.clusterIP: 10.200.0.1 is outside the service CIDR 10.96.0.0/12',
    );
  });

  it('says so when the service CIDR is full', () => {
    expect(() => allocateServiceAddresses(specs(['a', {}], ['b', {}], ['c', {}]), { serviceCidr: '10.96.0.0/30' })).toThrow(
      'no free address left in the service CIDR 10.96.0.0/30',
    );
  });

  it('hands LoadBalancer services an address from the pool, distinct per service', () => {
    const { specs: out } = allocateServiceAddresses(specs(['l1', { type: 'LoadBalancer', ports: [{ port: 80 }] }], ['l2', { type: 'LoadBalancer', ports: [{ port: 80 }] }]));
    const pool = parseIpv4Cidr(DEFAULT_LOAD_BALANCER_POOL);
    expect(out.every((spec) => cidrContains(pool, spec.loadBalancerIP as string))).toBe(true);
    expect(out[0]?.loadBalancerIP).not.toBe(out[1]?.loadBalancerIP);
  });

  it('uses a load-balancer pool inside RFC 5737 that no lab world host sits in', () => {
    const pool = parseIpv4Cidr(DEFAULT_LOAD_BALANCER_POOL);
    expect(cidrContains(parseIpv4Cidr('203.0.113.0/24'), DEFAULT_LOAD_BALANCER_POOL.split('/')[0] as string)).toBe(true);
    expect(WORLD_HOSTS.filter((host) => cidrContains(pool, host.ip))).toEqual([]);
  });

  it('writes the addresses back into the Service object as the API server would', () => {
    const service = seedServices().find((s) => s.metadata?.name === 'echo-a');
    const spec = allocateServiceAddresses([parseServiceSpec(service as never)]).specs[0] as ServiceSpec;
    const object = serviceObjectWithAddresses(service as never, spec);
    expect(object.spec?.clusterIP).toBe(spec.clusterIP);
    expect(object.spec?.clusterIPs).toEqual([spec.clusterIP]);
    expect(object.spec?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 8080 }]);
    expect(parseServiceSpec(object)).toEqual(spec);
  });
});
