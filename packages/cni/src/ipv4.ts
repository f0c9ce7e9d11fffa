// IPv4 address arithmetic for the pod subnet. Addresses are handled as unsigned 32-bit integers.

export interface Ipv4Subnet {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefixLength: number;
  /** Number of addresses in the subnet, network and broadcast included. */
  readonly size: number;
}

const dottedQuad = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIpv4(text: string): boolean {
  const match = dottedQuad.exec(text);
  return match !== null && match.slice(1).every((octet) => Number(octet) <= 255 && String(Number(octet)) === octet);
}

export function ipv4ToInt(address: string): number {
  if (!isIpv4(address)) throw new RangeError(`"${address}" is not a dotted-quad IPv4 address`);
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

export function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function isIpv4Cidr(text: string): boolean {
  const [address, prefix, ...rest] = text.split('/');
  return (
    rest.length === 0 &&
    address !== undefined &&
    isIpv4(address) &&
    prefix !== undefined &&
    /^\d{1,2}$/.test(prefix) &&
    Number(prefix) <= 32
  );
}

/** Parses `a.b.c.d/n`; the address must be the network address itself (no host bits set). */
export function parseIpv4Subnet(cidr: string): Ipv4Subnet {
  if (!isIpv4Cidr(cidr)) throw new RangeError(`"${cidr}" is not an IPv4 CIDR like 10.244.0.0/24`);
  const [address = '', prefix = ''] = cidr.split('/');
  const prefixLength = Number(prefix);
  const size = 2 ** (32 - prefixLength);
  const network = ipv4ToInt(address);
  if (network % size !== 0) {
    throw new RangeError(`"${cidr}" has host bits set; expected the network address ${intToIpv4(network - (network % size))}/${prefixLength}`);
  }
  return { network, prefixLength, size };
}

export function subnetContains(subnet: Ipv4Subnet, address: string): boolean {
  const value = ipv4ToInt(address);
  return value >= subnet.network && value < subnet.network + subnet.size;
}
