import { isIPv4 } from 'node:net';

/** An IPv4 CIDR as numbers: `first` is the network address, `size` the number of addresses. */
export interface Ipv4Cidr {
  readonly text: string;
  readonly first: number;
  readonly prefixLength: number;
  readonly size: number;
}

/** Dotted-quad IPv4 → unsigned 32-bit number; throws when `text` is not an IPv4 address. */
export function ipv4ToNumber(text: string): number {
  if (!isIPv4(text)) throw new Error(`'${text}' is not an IPv4 address`);
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Parses `a.b.c.d/n`; the address must be the network address (no host bits set). */
export function parseIpv4Cidr(text: string): Ipv4Cidr {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  const prefixLength = match ? Number(match[2]) : NaN;
  if (!match || !isIPv4(match[1] ?? '') || prefixLength > 32) {
    throw new Error(`'${text}' is not an IPv4 CIDR (expected a.b.c.d/n with n from 0 to 32)`);
  }
  const size = 2 ** (32 - prefixLength);
  const address = ipv4ToNumber(match[1] as string);
  if (address % size !== 0) throw new Error(`'${text}' has host bits set (expected ${numberToIpv4(address - (address % size))}/${prefixLength})`);
  return { text, first: address, prefixLength, size };
}

export function cidrContains(cidr: Ipv4Cidr, address: string): boolean {
  const value = ipv4ToNumber(address);
  return value >= cidr.first && value < cidr.first + cidr.size;
}

/** Orders IPv4 addresses numerically (10.244.0.98 before 10.244.1.65, 10.0.0.9 before 10.0.0.10). */
export function compareIpv4(a: string, b: string): number {
  return ipv4ToNumber(a) - ipv4ToNumber(b);
}

/** Orders strings by code unit, the same on every machine (unlike localeCompare, which follows the locale). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
