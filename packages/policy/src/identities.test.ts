import { describe, expect, it } from 'vitest';
import { formatPrefix } from './cidr.ts';
import { nextDnsExpiry } from './dnsCache.ts';
import { CidrIdentityAllocator, MIN_LOCAL_IDENTITY, prefixOfIdentity, worldIdentityOf } from './identities.ts';

describe('CidrIdentityAllocator', () => {
  it('allocates from Cilium’s local scope and keeps numbers while a prefix stays needed', () => {
    const allocator = new CidrIdentityAllocator();
    const first = allocator.sync(['10.0.0.0/8', '192.0.2.1']);
    expect(first.added.map((i) => [i.id, i.labels])).toEqual([
      [MIN_LOCAL_IDENTITY, ['cidr:10.0.0.0/8', 'reserved:world']],
      [MIN_LOCAL_IDENTITY + 1, ['cidr:192.0.2.1/32', 'reserved:world']],
    ]);
    const second = allocator.sync(['10.0.0.0/8', '2001:db8::/32']);
    expect(second.removed.map((i) => i.id)).toEqual([MIN_LOCAL_IDENTITY + 1]);
    expect(second.added.map((i) => [i.id, i.labels])).toEqual([[MIN_LOCAL_IDENTITY + 2, ['cidr:2001-db8--/32', 'reserved:world']]]);
    expect(allocator.identities().map((i) => i.id)).toEqual([MIN_LOCAL_IDENTITY, MIN_LOCAL_IDENTITY + 2]);
  });

  it('reads the prefix back from an identity’s cidr: label, IPv6 included', () => {
    const allocator = new CidrIdentityAllocator();
    allocator.sync(['2001:db8::/32']);
    expect(formatPrefix(prefixOfIdentity(allocator.identities()[0]!)!)).toBe('2001:db8::/32');
  });

  it('refuses a prefix that does not parse', () => {
    expect(() => new CidrIdentityAllocator().sync(['10.0.0.0/40'])).toThrow(/prefix length must be 0-32/);
  });
});

describe('worldIdentityOf', () => {
  it('answers the longest matching CIDR identity, else world', () => {
    const allocator = new CidrIdentityAllocator();
    allocator.sync(['10.0.0.0/8', '10.96.0.0/12']);
    const [wide, narrow] = allocator.identities();
    expect(worldIdentityOf('10.96.0.10', allocator.identities())).toBe(narrow!.id);
    expect(worldIdentityOf('10.1.0.1', allocator.identities())).toBe(wide!.id);
    expect(worldIdentityOf('192.0.2.1', allocator.identities())).toBe(2);
  });
});

describe('nextDnsExpiry', () => {
  it('is the earliest live expiry among records the selectors use', () => {
    const records = [
      { name: 'www.google.com', ip: '198.51.100.14', expiresAtMs: 5_000 },
      { name: 'mail.google.com', ip: '198.51.100.15', expiresAtMs: 2_000 },
      { name: 'example.com', ip: '203.0.113.10', expiresAtMs: 1_500 },
    ];
    expect(nextDnsExpiry([{ matchPattern: '*.google.com' }], records, 1_000)).toBe(2_000);
    expect(nextDnsExpiry([{ matchPattern: '*.google.com' }], records, 2_000)).toBe(5_000);
    expect(nextDnsExpiry([{ matchName: 'one.one.one.one' }], records, 0)).toBeUndefined();
  });
});
