// Builds Ethernet frames (IPv4/IPv6 + TCP/UDP/ICMP) for BPF_PROG_TEST_RUN
// tests and benchmarks. Checksums are computed, though the datapath ignores them.
import { IpProto } from './constants.ts';
import { writeIpAddress } from './ipAddress.ts';

export interface PacketSpec {
  saddr: string;
  daddr: string;
  /** IpProto.TCP, UDP, ICMP or ICMPV6; the family follows the addresses. */
  proto: number;
  sport?: number;
  dport?: number;
  /** TcpFlag bits. */
  tcpFlags?: number;
  icmpType?: number;
  icmpCode?: number;
  icmpId?: number;
  payload?: Uint8Array;
}

export interface BuiltPacket {
  bytes: Buffer;
  /** Offsets from the start of the frame. */
  l3Offset: number;
  l4Offset: number;
  payloadOffset: number;
}

const ETH_HLEN = 14;
const IPV4_HLEN = 20;
const IPV6_HLEN = 40;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;

function l4HeaderLength(proto: number): number {
  if (proto === IpProto.TCP) return 20;
  if (proto === IpProto.UDP || proto === IpProto.ICMP || proto === IpProto.ICMPV6) return 8;
  return 0;
}

function checksum(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function buildPacket(spec: PacketSpec): BuiltPacket {
  const payload = spec.payload ?? new Uint8Array(0);
  const addr = new Uint8Array(16);
  const family = writeIpAddress(spec.saddr, addr, 0);
  const l3Len = family === 4 ? IPV4_HLEN : IPV6_HLEN;
  const l4Len = l4HeaderLength(spec.proto);
  const l4Offset = ETH_HLEN + l3Len;
  const payloadOffset = l4Offset + l4Len;
  const bytes = Buffer.alloc(payloadOffset + payload.length);

  // Ethernet: locally administered MACs.
  bytes.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01], 0);
  bytes.writeUInt16BE(family === 4 ? ETH_P_IP : ETH_P_IPV6, 12);

  const l4Total = l4Len + payload.length;
  if (family === 4) {
    const ip = ETH_HLEN;
    bytes[ip] = 0x45;
    bytes.writeUInt16BE(IPV4_HLEN + l4Total, ip + 2);
    bytes.writeUInt16BE(0x4000, ip + 6); // DF
    bytes[ip + 8] = 64;
    bytes[ip + 9] = spec.proto;
    writeIpAddress(spec.saddr, addr, 0);
    bytes.set(addr.subarray(0, 4), ip + 12);
    if (writeIpAddress(spec.daddr, addr, 0) !== 4) throw new Error(`${spec.daddr} is not IPv4 like ${spec.saddr}`);
    bytes.set(addr.subarray(0, 4), ip + 16);
    bytes.writeUInt16BE(checksum(bytes, ip, ip + IPV4_HLEN), ip + 10);
  } else {
    const ip = ETH_HLEN;
    bytes[ip] = 0x60;
    bytes.writeUInt16BE(l4Total, ip + 4);
    bytes[ip + 6] = spec.proto;
    bytes[ip + 7] = 64;
    writeIpAddress(spec.saddr, bytes, ip + 8);
    if (writeIpAddress(spec.daddr, bytes, ip + 24) !== 6) throw new Error(`${spec.daddr} is not IPv6 like ${spec.saddr}`);
  }

  const l4 = l4Offset;
  if (spec.proto === IpProto.TCP) {
    bytes.writeUInt16BE(spec.sport ?? 0, l4);
    bytes.writeUInt16BE(spec.dport ?? 0, l4 + 2);
    bytes.writeUInt32BE(1, l4 + 4);
    bytes[l4 + 12] = 5 << 4;
    bytes[l4 + 13] = spec.tcpFlags ?? 0;
    bytes.writeUInt16BE(64240, l4 + 14);
  } else if (spec.proto === IpProto.UDP) {
    bytes.writeUInt16BE(spec.sport ?? 0, l4);
    bytes.writeUInt16BE(spec.dport ?? 0, l4 + 2);
    bytes.writeUInt16BE(l4Total, l4 + 4);
  } else if (spec.proto === IpProto.ICMP || spec.proto === IpProto.ICMPV6) {
    bytes[l4] = spec.icmpType ?? 0;
    bytes[l4 + 1] = spec.icmpCode ?? 0;
    bytes.writeUInt16BE(spec.icmpId ?? 0, l4 + 4);
    bytes.writeUInt16BE(1, l4 + 6);
  }
  bytes.set(payload, payloadOffset);
  return { bytes, l3Offset: ETH_HLEN, l4Offset, payloadOffset };
}
