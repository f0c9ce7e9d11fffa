import { describe, expect, it } from 'vitest';
import { addressScope, isUnicastAddress } from './addressScope.ts';

describe('addressScope', () => {
  it.each([
    ['fe80::1', 'link-local'],
    ['fe80::a8c1:abff:fe12:3456', 'link-local'],
    ['febf::1', 'link-local'],
    ['FE80::1', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['169.254.169.254', 'link-local'],
    ['::ffff:169.254.1.1', 'link-local'],
  ])('%s is link-local', (ip, scope) => {
    expect(addressScope(ip)).toBe(scope);
  });

  it.each([
    ['ff02::1', 'multicast'],
    ['ff02::1:ff12:3456', 'multicast'],
    ['ff02::16', 'multicast'],
    ['ff0e::1', 'multicast'],
    ['224.0.0.1', 'multicast'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'multicast'],
  ])('%s is multicast', (ip, scope) => {
    expect(addressScope(ip)).toBe(scope);
  });

  it.each(['::', '0.0.0.0'])('%s is unspecified', (ip) => {
    expect(addressScope(ip)).toBe('unspecified');
  });

  it.each(['10.244.0.5', '1.1.1.1', '169.253.0.1', '170.254.0.1', '223.255.255.255', '240.0.0.1', '2001:db8::1', 'fec0::1', 'fe7f::1', 'ff::1', '::1', '::ffff:10.0.0.1'])(
    '%s is unicast',
    (ip) => {
      expect(addressScope(ip)).toBe('unicast');
      expect(isUnicastAddress(ip)).toBe(true);
    },
  );

  it('names no endpoint for link-local, multicast and unspecified addresses', () => {
    expect(['fe80::1', 'ff02::2', '::', '169.254.1.1', '224.0.0.22'].map(isUnicastAddress)).toEqual([false, false, false, false, false]);
  });
});
