// IP addresses as the datapath stores them (struct tycho_addr: 16 bytes,
// IPv4 in the first 4) to and from their textual forms.
import { isIPv4, isIPv6 } from 'node:net';

const OCTETS: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

// Flows repeat the same few addresses; remembering their strings saves the
// concatenation on the decode path. Cleared when full rather than evicted.
const IPV4_CACHE_MAX = 65_536;
const ipv4Cache = new Map<number, string>();

/** Dotted quad of the 4 bytes at `offset`. */
export function ipv4ToString(bytes: Uint8Array, offset: number): string {
  const a = bytes[offset]!, b = bytes[offset + 1]!, c = bytes[offset + 2]!, d = bytes[offset + 3]!;
  const key = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  let text = ipv4Cache.get(key);
  if (text === undefined) {
    text = OCTETS[a]! + '.' + OCTETS[b]! + '.' + OCTETS[c]! + '.' + OCTETS[d]!;
    if (ipv4Cache.size >= IPV4_CACHE_MAX) ipv4Cache.clear();
    ipv4Cache.set(key, text);
  }
  return text;
}

/** RFC 5952 text of the 16 bytes at `offset`: lower case, longest zero run compressed. */
export function ipv6ToString(bytes: Uint8Array, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  // IPv4-mapped ::ffff:a.b.c.d keeps its dotted tail.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return '::ffff:' + ipv4ToString(bytes, offset + 12);
  }
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

/** Writes `address` (IPv4 or IPv6 text) into 16 bytes at `offset`; returns its family. */
export function writeIpAddress(address: string, bytes: Uint8Array, offset: number): 4 | 6 {
  bytes.fill(0, offset, offset + 16);
  if (isIPv4(address)) {
    const parts = address.split('.');
    for (let i = 0; i < 4; i++) bytes[offset + i] = Number(parts[i]);
    return 4;
  }
  if (!isIPv6(address)) throw new Error(`'${address}' is not an IPv4 or IPv6 address`);
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const quad = dotted[1]!.split('.').map(Number);
    text = text.slice(0, -dotted[1]!.length) +
      ((quad[0]! << 8) | quad[1]!).toString(16) + ':' + ((quad[2]! << 8) | quad[3]!).toString(16);
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : zeros).fill('0'), ...tailGroups];
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[offset + 2 * i] = value >> 8;
    bytes[offset + 2 * i + 1] = value & 0xff;
  });
  return 6;
}
