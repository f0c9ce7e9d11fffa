import { describe, expect, it } from 'vitest';
import { intToIpv4, ipv4ToInt, isIpv4, parseIpv4Subnet, subnetContains } from './ipv4.ts';

describe('ipv4', () => {
  it('round-trips an address through its integer form', () => {
    expect(intToIpv4(ipv4ToInt('10.244.1.254'))).toBe('10.244.1.254');
  });

  it('rejects octets above 255 and leading zeros', () => {
    expect([isIpv4('10.244.0.256'), isIpv4('10.244.0.01'), isIpv4('10.244.0.1')]).toEqual([false, false, true]);
  });

  it('parses a subnet into network, prefix and size', () => {
    expect(parseIpv4Subnet('10.244.0.0/24')).toEqual({ network: ipv4ToInt('10.244.0.0'), prefixLength: 24, size: 256 });
  });

  it('refuses a subnet with host bits set, naming the network address expected', () => {
    expect(() => parseIpv4Subnet('10.244.0.5/24')).toThrow('expected the network address 10.244.0.0/24');
  });

  it('tells whether a subnet contains an address', () => {
    const subnet = parseIpv4Subnet('10.244.1.0/24');
    expect([subnetContains(subnet, '10.244.1.7'), subnetContains(subnet, '10.244.0.7')]).toEqual([true, false]);
  });
});
