import { describe, expect, it } from 'vitest';
import { cidrContains, compareIpv4, ipv4ToNumber, numberToIpv4, parseIpv4Cidr } from './ipv4.ts';

describe('ipv4', () => {
  it('converts addresses to numbers and back', () => {
    expect(ipv4ToNumber('10.96.0.10')).toBe(0x0a60000a);
    expect(numberToIpv4(0xffffffff)).toBe('255.255.255.255');
    expect(numberToIpv4(ipv4ToNumber('203.0.113.128'))).toBe('203.0.113.128');
  });

  it('rejects what is not an IPv4 address', () => {
    expect(() => ipv4ToNumber('10.96.0.256')).toThrow("'10.96.0.256' is not an IPv4 address");
  });

  it('parses CIDRs and tells which addresses they hold', () => {
    const cidr = parseIpv4Cidr('10.96.0.0/12');
    expect(cidr.size).toBe(2 ** 20);
    expect(cidrContains(cidr, '10.111.255.255')).toBe(true);
    expect(cidrContains(cidr, '10.112.0.0')).toBe(false);
  });

  it('rejects CIDRs with host bits or a bad prefix', () => {
    expect(() => parseIpv4Cidr('10.96.0.1/12')).toThrow('expected 10.96.0.0/12');
    expect(() => parseIpv4Cidr('10.96.0.0/33')).toThrow('is not an IPv4 CIDR');
    expect(() => parseIpv4Cidr('10.96.0.0')).toThrow('is not an IPv4 CIDR');
  });

  it('orders addresses numerically', () => {
    expect(['10.0.0.10', '10.0.0.9', '9.255.0.1'].sort(compareIpv4)).toEqual(['9.255.0.1', '10.0.0.9', '10.0.0.10']);
  });
});
