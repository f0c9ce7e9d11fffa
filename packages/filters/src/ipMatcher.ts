/**
 * IP addresses and CIDRs for `source_ip` / `destination_ip`, parsed without
 * any platform API so the engine runs in agents, the API and browsers.
 */

export type IpPrefix =
  | { family: 4; network: number; bits: number }
  | { family: 6; network: bigint; bits: number };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIPv4(text: string): number | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = match[i] ?? '';
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

export function parseIPv6(text: string): bigint | undefined {
  if (!text.includes(':')) return undefined;
  let groups: string[];
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  // A trailing dotted IPv4 (::ffff:10.0.0.1) stands for the last two groups.
  const last = (halves.length === 2 ? tail : head).at(-1);
  const embedded = last?.includes('.') ? parseIPv4(last) : undefined;
  if (last?.includes('.')) {
    if (embedded === undefined) return undefined;
    const list = halves.length === 2 ? tail : head;
    list.splice(list.length - 1, 1, (embedded >>> 16).toString(16), (embedded & 0xffff).toString(16));
  }
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  let value = 0n;
  for (const group of groups) {
    if (!HEX_GROUP.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

/** `10.0.0.1`, `10.0.0.0/8`, `fd00::1`, `fd00::/64` → a prefix; undefined when malformed. */
export function parseIpPrefix(text: string): IpPrefix | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const bitsText = slash === -1 ? undefined : text.slice(slash + 1);
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return undefined;
  const v4 = parseIPv4(address);
  if (v4 !== undefined) {
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (bits > 32) return undefined;
    return { family: 4, network: maskIPv4(v4, bits), bits };
  }
  const v6 = parseIPv6(address);
  if (v6 === undefined) return undefined;
  const bits = bitsText === undefined ? 128 : Number(bitsText);
  if (bits > 128) return undefined;
  return { family: 6, network: maskIPv6(v6, bits), bits };
}

function maskIPv4(value: number, bits: number): number {
  return bits === 0 ? 0 : (value & (0xffffffff << (32 - bits))) >>> 0;
}

const ALL_ONES_V6 = (1n << 128n) - 1n;
function maskIPv6(value: bigint, bits: number): bigint {
  return value & (ALL_ONES_V6 ^ ((1n << BigInt(128 - bits)) - 1n));
}

/**
 * One test for a list of addresses and CIDRs. Plain IPv4 addresses are
 * looked up as strings; only CIDRs and IPv6 need the address parsed.
 */
export function compileIpMatcher(entries: readonly string[]): (ip: string | undefined) => boolean {
  const exact = new Set<string>();
  const v4: { network: number; bits: number }[] = [];
  const v6: { network: bigint; bits: number }[] = [];
  for (const entry of entries) {
    const prefix = parseIpPrefix(entry);
    if (!prefix) throw new Error(`not an IP address or CIDR: ${entry}`);
    if (prefix.family === 4 && prefix.bits === 32) exact.add(entry.split('/')[0] ?? entry);
    else if (prefix.family === 4) v4.push(prefix);
    else v6.push(prefix);
  }
  return (ip) => {
    if (ip === undefined) return false;
    if (exact.has(ip)) return true;
    if (v4.length > 0) {
      const value = parseIPv4(ip);
      if (value !== undefined) return v4.some((p) => maskIPv4(value, p.bits) === p.network);
    }
    if (v6.length > 0) {
      const value = parseIPv6(ip);
      if (value !== undefined) return v6.some((p) => maskIPv6(value, p.bits) === p.network);
    }
    return false;
  };
}
