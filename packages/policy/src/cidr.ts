import { isIPv4, isIPv6 } from 'node:net';

/** An IPv4 or IPv6 prefix, canonical (host bits cleared). */
export interface Prefix {
  readonly family: 4 | 6;
  /** The network address as an integer (32 or 128 bits). */
  readonly address: bigint;
  readonly length: number;
}

function bitsOf(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function parseIpv4(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function parseIpv6(text: string): bigint {
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = '', right] = head.split('::');
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...Array<string>(right === undefined ? 0 : missing).fill('0'), ...rightGroups];
  let value = groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** Parses an IP address; undefined if it is not one. */
export function parseIp(text: string): { family: 4 | 6; address: bigint } | undefined {
  if (isIPv4(text)) return { family: 4, address: parseIpv4(text) };
  if (isIPv6(text)) return { family: 6, address: parseIpv6(text) };
  return undefined;
}

function mask(family: 4 | 6, length: number): bigint {
  const bits = BigInt(bitsOf(family));
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(length))) - 1n);
}

/**
 * Parses `10.0.0.0/8` (host bits are cleared, as Cilium does); with
 * `allowBareIp` also `10.0.0.1` as a /32. Returns a reason string on failure.
 */
export function parsePrefix(text: string, allowBareIp = false): Prefix | string {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const ip = parseIp(text);
    if (!ip) return `'${text}' is not a CIDR (expected e.g. 10.0.0.0/8)`;
    if (!allowBareIp) return `'${text}' has no prefix length (expected e.g. ${text}/${bitsOf(ip.family)})`;
    return { ...ip, length: bitsOf(ip.family) };
  }
  const ip = parseIp(text.slice(0, slash));
  if (!ip) return `'${text}' is not a CIDR: '${text.slice(0, slash)}' is not an IP address`;
  const lengthText = text.slice(slash + 1);
  const length = Number(lengthText);
  if (!/^\d{1,3}$/.test(lengthText) || length > bitsOf(ip.family)) {
    return `'${text}' is not a CIDR: prefix length must be 0-${bitsOf(ip.family)}`;
  }
  return { family: ip.family, address: ip.address & mask(ip.family, length), length };
}

/** The /32 or /128 prefix of one address; undefined if `ip` is not an address. */
export function hostPrefix(ip: string): Prefix | undefined {
  const parsed = parseIp(ip);
  return parsed && { ...parsed, length: bitsOf(parsed.family) };
}

/** Whether `inner` lies inside `outer` (equal counts). */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  return outer.family === inner.family && outer.length <= inner.length && (inner.address & mask(outer.family, outer.length)) === outer.address;
}

export function formatPrefix(prefix: Prefix): string {
  if (prefix.family === 4) {
    const a = prefix.address;
    return `${[24n, 16n, 8n, 0n].map((shift) => (a >> shift) & 0xffn).join('.')}/${prefix.length}`;
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((prefix.address >> shift) & 0xffffn).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  const text =
    best.start < 0
      ? groups.join(':')
      : `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
  return `${text}/${prefix.length}`;
}

/** Whether the prefix covers every address of its family (0.0.0.0/0, ::/0). */
export function isWholeFamily(prefix: Prefix): boolean {
  return prefix.length === 0;
}
