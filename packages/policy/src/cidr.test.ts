import { describe, expect, it } from 'vitest';
import { formatPrefix, type Prefix, parsePrefix, prefixContains } from './cidr.ts';

const p = (text: string) => parsePrefix(text, true) as Prefix;

describe('parsePrefix', () => {
  it('clears host bits and formats canonically', () => {
    expect(formatPrefix(p('10.1.2.3/8'))).toBe('10.0.0.0/8');
    expect(formatPrefix(p('2001:db8:0:0:1::/32'))).toBe('2001:db8::/32');
    expect(formatPrefix(p('::ffff:192.0.2.1'))).toBe('::ffff:c000:201/128');
  });

  it('takes a bare address as a host prefix only when allowed', () => {
    expect(formatPrefix(p('192.0.2.7'))).toBe('192.0.2.7/32');
    expect(parsePrefix('192.0.2.7')).toMatch(/no prefix length/);
  });

  it('says why a CIDR is bad', () => {
    expect(parsePrefix('10.0.0.0/33')).toMatch(/prefix length must be 0-32/);
    expect(parsePrefix('10.0.0/8')).toMatch(/not an IP address/);
    expect(parsePrefix('example.com')).toMatch(/not a CIDR/);
  });
});

describe('prefixContains', () => {
  it('holds for inner prefixes of the same family only', () => {
    expect(prefixContains(p('10.0.0.0/8'), p('10.96.0.0/12'))).toBe(true);
    expect(prefixContains(p('10.96.0.0/12'), p('10.0.0.0/8'))).toBe(false);
    expect(prefixContains(p('0.0.0.0/0'), p('192.0.2.1'))).toBe(true);
    expect(prefixContains(p('::/0'), p('192.0.2.1'))).toBe(false);
  });
});
