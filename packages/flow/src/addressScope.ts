/**
 * How far an IP address reaches, as far as telling who is behind it goes.
 *
 * - `unicast`: one interface, somewhere (a pod, a node, the world): the
 *   ipcache can know its owner.
 * - `link-local`: one interface, but the address only means something on its
 *   own link (fe80::/10, 169.254.0.0/16); every pod's eth0 has one.
 * - `multicast`: a group, not an interface (ff00::/8, 224.0.0.0/4), and the
 *   IPv4 limited broadcast 255.255.255.255.
 * - `unspecified`: no address yet (`::`, `0.0.0.0`), as in IPv6 duplicate
 *   address detection or a DHCP discover.
 *
 * Only `unicast` addresses name an endpoint: the others are neither a pod nor
 * `world`. Neighbor Discovery and MLD (ICMPv6 130–137, 143) always run
 * between such addresses.
 */
export type AddressScope = 'unicast' | 'link-local' | 'multicast' | 'unspecified';

/** The scope of an IPv4 or IPv6 address in text form (any case; IPv4-mapped IPv6 as its IPv4 address). */
export function addressScope(ip: string): AddressScope {
  return ip.includes(':') ? ipv6Scope(ip) : ipv4Scope(ip);
}

/** Whether an address names an endpoint (a pod, a node, the world) rather than a link, a group or no one. */
export function isUnicastAddress(ip: string): boolean {
  return addressScope(ip) === 'unicast';
}

const IPV4_MAPPED_PREFIX = '::ffff:';

function ipv4Scope(ip: string): AddressScope {
  const first = leadingOctet(ip, 0);
  if (first === 169 && leadingOctet(ip, ip.indexOf('.') + 1) === 254) return 'link-local';
  if (first >= 224 && first <= 239) return 'multicast';
  if (ip === '255.255.255.255') return 'multicast';
  if (ip === '0.0.0.0') return 'unspecified';
  return 'unicast';
}

/** The decimal number at `start`, up to the next `.` (hot path: no substring). */
function leadingOctet(ip: string, start: number): number {
  let value = 0;
  for (let i = start; i < ip.length; i++) {
    const digit = ip.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}

function ipv6Scope(ip: string): AddressScope {
  if (ip === '::') return 'unspecified';
  if (ip.toLowerCase().startsWith(IPV4_MAPPED_PREFIX) && ip.includes('.')) return ipv4Scope(ip.slice(IPV4_MAPPED_PREFIX.length));
  // fe80::/10 and ff00::/8 begin with a four-digit first group.
  if (ip.indexOf(':') !== 4) return 'unicast';
  const first = Number.parseInt(ip.slice(0, 4), 16);
  if (first >>> 8 === 0xff) return 'multicast';
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  return 'unicast';
}
