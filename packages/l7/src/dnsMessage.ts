/**
 * DNS messages (RFC 1035) as the datapath hands them over: the first bytes
 * of a UDP datagram, or of a TCP segment with its 2-byte length prefix.
 * Parsing is strict so that garbage and continuation segments never come out
 * as a bogus record; every function returns `undefined` instead of throwing.
 */

export interface DnsQuestion {
  /** Fully qualified, with the trailing dot: `www.google.com.`. */
  name: string;
  type: number;
  class: number;
}

export interface DnsAnswer {
  name: string;
  type: number;
  ttl: number;
  /** A and AAAA records: the address, in its usual text form. */
  ip?: string;
  /** CNAME records: the canonical name, with the trailing dot. */
  cname?: string;
}

export interface DnsMessage {
  id: number;
  isResponse: boolean;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsAnswer[];
  /** The bytes were a prefix of a longer message: `answers` holds the complete records only. */
  partial: boolean;
}

export interface DnsParseOptions {
  /**
   * The bytes may be cut short of the message's end (the datapath copies at
   * most its payload limit). The header and question must still be whole;
   * answer records cut off are left out and the result is marked `partial`.
   */
  mayBeTruncated?: boolean;
}

const HEADER_LENGTH = 12;
const MAX_NAME_LENGTH = 255;
const MAX_LABEL_LENGTH = 63;
const MAX_RECORDS = 512;
const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const OPCODE_QUERY = 0;

/** Record type names as Hubble prints them (gopacket's DNSType names). */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA',
  33: 'SRV', 35: 'NAPTR', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS', 255: 'ANY',
};

export function dnsTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `TYPE${type}`;
}

/** Response code descriptions as Hubble prints them in summaries (gopacket's DNSResponseCode). */
const RCODE_DESCRIPTIONS: Readonly<Record<number, string>> = {
  0: 'No Error', 1: 'Format Error', 2: 'Server Failure', 3: 'Non-Existent Domain', 4: 'Not Implemented',
  5: 'Query Refused', 6: 'Name Exists when it should not', 7: 'RR Set Exists when it should not',
  8: 'RR Set that should exist does not', 9: 'Server Not Authoritative for zone', 10: 'Name not contained in zone',
};

export function dnsRcodeDescription(rcode: number): string {
  return RCODE_DESCRIPTIONS[rcode] ?? 'Unknown error';
}

/** Thrown inside the parser only; every exported function catches it. */
class Truncated extends Error {}
class Malformed extends Error {}

/**
 * A standard query or response. Requires exactly one question (what every
 * resolver sends, RFC 9619), opcode QUERY and, unless `mayBeTruncated`, that
 * the records end exactly where the bytes do.
 */
export function parseDnsMessage(bytes: Uint8Array, options: DnsParseOptions = {}): DnsMessage | undefined {
  try {
    return parse(bytes, options.mayBeTruncated ?? false);
  } catch (error) {
    if (error instanceof Truncated || error instanceof Malformed) return undefined;
    throw error;
  }
}

/**
 * DNS over TCP: the first segment of a message, after its 2-byte length.
 * Bytes beyond the stated length are refused (a second message in the same
 * segment is not looked at).
 */
export function parseDnsOverTcp(bytes: Uint8Array, options: DnsParseOptions = {}): DnsMessage | undefined {
  if (bytes.length < 2) return undefined;
  const length = (bytes[0]! << 8) | bytes[1]!;
  if (length < HEADER_LENGTH) return undefined;
  const available = bytes.length - 2;
  if (available > length) return undefined;
  if (available < length && !options.mayBeTruncated) return undefined;
  return parseDnsMessage(bytes.subarray(2, 2 + length), { mayBeTruncated: available < length });
}

function parse(bytes: Uint8Array, mayBeTruncated: boolean): DnsMessage | undefined {
  if (bytes.length < HEADER_LENGTH) return undefined;
  const u16 = (offset: number): number => {
    if (offset + 2 > bytes.length) throw new Truncated();
    return (bytes[offset]! << 8) | bytes[offset + 1]!;
  };
  const id = u16(0);
  const flags = u16(2);
  const isResponse = (flags & 0x8000) !== 0;
  const opcode = (flags >> 11) & 0x0f;
  const rcode = flags & 0x000f;
  const qdcount = u16(4);
  const ancount = u16(6);
  const nscount = u16(8);
  const arcount = u16(10);
  if (opcode !== OPCODE_QUERY || qdcount !== 1) return undefined;
  if (!isResponse && (ancount !== 0 || rcode !== 0)) return undefined;
  if (ancount + nscount + arcount > MAX_RECORDS) return undefined;

  let offset = HEADER_LENGTH;
  const question = readName(bytes, offset);
  offset = question.end;
  const qtype = u16(offset);
  const qclass = u16(offset + 2);
  offset += 4;
  const questions: DnsQuestion[] = [{ name: question.name, type: qtype, class: qclass }];

  const answers: DnsAnswer[] = [];
  let partial = false;
  try {
    for (let i = 0; i < ancount + nscount + arcount; i++) {
      const owner = readName(bytes, offset);
      offset = owner.end;
      const type = u16(offset);
      const rrclass = u16(offset + 2);
      if (offset + 8 > bytes.length) throw new Truncated();
      const ttl = ((bytes[offset + 4]! << 24) | (bytes[offset + 5]! << 16) | (bytes[offset + 6]! << 8) | bytes[offset + 7]!) >>> 0;
      const rdlength = u16(offset + 8);
      const rdata = offset + 10;
      if (rdata + rdlength > bytes.length) throw new Truncated();
      offset = rdata + rdlength;
      if (i >= ancount) continue;
      const answer: DnsAnswer = { name: owner.name, type, ttl: ttl > 0x7fffffff ? 0 : ttl };
      if (rrclass === CLASS_IN && type === TYPE_A) {
        if (rdlength !== 4) throw new Malformed();
        answer.ip = ipv4(bytes.subarray(rdata, rdata + 4));
      } else if (rrclass === CLASS_IN && type === TYPE_AAAA) {
        if (rdlength !== 16) throw new Malformed();
        answer.ip = ipv6(bytes.subarray(rdata, rdata + 16));
      } else if (type === TYPE_CNAME) {
        const target = readName(bytes, rdata);
        if (target.end !== rdata + rdlength) throw new Malformed();
        answer.cname = target.name;
      }
      answers.push(answer);
    }
  } catch (error) {
    if (!(error instanceof Truncated) || !mayBeTruncated) throw error;
    partial = true;
  }
  if (!partial && offset !== bytes.length) return undefined;
  return { id, isResponse, rcode, questions, answers, partial };
}

/**
 * A possibly compressed name at `start`; `end` is just past its encoding at
 * `start`. A compression pointer must point strictly before the label that
 * holds it, so following pointers always moves backwards and ends.
 */
function readName(bytes: Uint8Array, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let length = 0;
  let offset = start;
  let end: number | undefined;
  let lowestJumpTarget = start;
  for (;;) {
    if (offset >= bytes.length) throw new Truncated();
    const byte = bytes[offset]!;
    if (byte === 0) {
      end ??= offset + 1;
      break;
    }
    const kind = byte & 0xc0;
    if (kind === 0xc0) {
      if (offset + 1 >= bytes.length) throw new Truncated();
      const target = ((byte & 0x3f) << 8) | bytes[offset + 1]!;
      end ??= offset + 2;
      if (target >= lowestJumpTarget || target < HEADER_LENGTH) throw new Malformed();
      lowestJumpTarget = target;
      offset = target;
      continue;
    }
    if (kind !== 0 || byte > MAX_LABEL_LENGTH) throw new Malformed();
    if (offset + 1 + byte > bytes.length) throw new Truncated();
    length += byte + 1;
    if (length > MAX_NAME_LENGTH) throw new Malformed();
    labels.push(labelText(bytes.subarray(offset + 1, offset + 1 + byte)));
    offset += 1 + byte;
  }
  return { name: labels.length === 0 ? '.' : `${labels.join('.')}.`, end };
}

/** Host names and service labels: printable ASCII other than the dot and space. */
function labelText(label: Uint8Array): string {
  let text = '';
  for (const byte of label) {
    if (byte <= 0x20 || byte >= 0x7f || byte === 0x2e) throw new Malformed();
    text += String.fromCharCode(byte);
  }
  return text;
}

function ipv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** RFC 5952 text: lower-case hex, the longest run of two or more zero groups as `::`. */
function ipv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
