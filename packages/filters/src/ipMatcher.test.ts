import { describe, expect, it } from 'vitest';
import { compileIpMatcher, parseIpPrefix } from './ipMatcher.ts';

describe('IP prefixes', () => {
  it('parses addresses as host prefixes and masks CIDRs', () => {
    expect(parseIpPrefix('10.0.0.1')).toEqual({ family: 4, network: 0x0a000001, bits: 32 });
    expect(parseIpPrefix('10.1.2.3/8')).toEqual({ family: 4, network: 0x0a000000, bits: 8 });
    expect(parseIpPrefix('::ffff:10.0.0.1')).toEqual({ family: 6, network: 0xffff0a000001n, bits: 128 });
    expect(parseIpPrefix('fd00::/8')?.bits).toBe(8);
  });

  it.each(['10.0.0', '10.0.0.01', '10.0.0.1/33', 'fd00::1::2', 'fd00::/129', 'g::1', '10.0.0.1/', ''])('refuses %j', (text) => {
    expect(parseIpPrefix(text)).toBeUndefined();
  });

  it('matches IPv6 written differently from the filter', () => {
    const matches = compileIpMatcher(['fd00:0:0:0::1']);
    expect(matches('fd00::1')).toBe(true);
    expect(matches('fd00::2')).toBe(false);
  });

  it('matches /0 for every address of its family only', () => {
    expect(compileIpMatcher(['0.0.0.0/0'])('192.0.2.1')).toBe(true);
    expect(compileIpMatcher(['0.0.0.0/0'])('fd00::1')).toBe(false);
    expect(compileIpMatcher(['::/0'])('fd00::1')).toBe(true);
  });
});
