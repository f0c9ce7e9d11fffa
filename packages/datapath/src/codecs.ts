// Encoders and decoders for every struct in bpf/include/tycho/abi.h.
// Each layout below is the one place its offsets are written down;
// codecs.test.ts checks them against the BTF of the compiled object.
// Integers are host order (little endian) except ports, which the structs
// keep in network order and these codecs present in host order.
import { ipv4ToString, ipv6ToString, writeIpAddress } from './ipAddress.ts';
import { L7_PORTS_MAX, PAYLOAD_MAX } from './constants.ts';
import { RECORD_HEADER_BYTES, nextRecordOffset } from './ringBufferReader.ts';

export interface FieldLayout {
  offset: number;
  size: number;
}

export interface StructLayout<K extends string = string> {
  /** The C struct name. */
  name: string;
  size: number;
  fields: Readonly<Record<K, FieldLayout>>;
  /** Offset by field name, for the encoders and decoders. */
  at: Readonly<Record<K, number>>;
}

/** A struct layout from `[offset, size]` per field, as bpf/include/tycho/*.h lays it out (checked against BTF by the tests). */
export function defineLayout<K extends string>(name: string, size: number, fields: Record<K, [number, number]>): StructLayout<K> {
  const out = {} as Record<K, FieldLayout>;
  const at = {} as Record<K, number>;
  for (const key of Object.keys(fields) as K[]) {
    const [offset, fieldSize] = fields[key];
    out[key] = { offset, size: fieldSize };
    at[key] = offset;
  }
  return { name, size, fields: Object.freeze(out), at: Object.freeze(at) };
}

export const layouts = {
  addr: defineLayout('tycho_addr', 16, { bytes: [0, 16] }),
  tuple: defineLayout('tycho_tuple', 40, {
    saddr: [0, 16], daddr: [16, 16], sport: [32, 2], dport: [34, 2], proto: [36, 1], family: [37, 1], pad: [38, 2],
  }),
  ctKey4: defineLayout('tycho_ct_key4', 20, {
    saddr: [0, 4], daddr: [4, 4], sport: [8, 2], dport: [10, 2], ifindex: [12, 4], proto: [16, 1], pad: [17, 3],
  }),
  ctKey6: defineLayout('tycho_ct_key6', 44, {
    saddr: [0, 16], daddr: [16, 16], sport: [32, 2], dport: [34, 2], ifindex: [36, 4], proto: [40, 1], pad: [41, 3],
  }),
  ctEntry: defineLayout('tycho_ct_entry', 120, {
    packets_fwd: [0, 8], bytes_fwd: [8, 8], packets_rev: [16, 8], bytes_rev: [24, 8], last_seen_ns: [32, 8], report_at_ns: [40, 8],
    flags_fwd: [48, 1], flags_rev: [49, 1], opened_by_daddr: [50, 1], l7_payload: [51, 1], obs_point: [52, 1], pad: [53, 3],
    first_seen_ns: [56, 8], src_identity: [64, 4], dst_identity: [68, 4], reserved: [72, 48],
  }),
  endpointInfo: defineLayout('tycho_endpoint_info', 16, {
    endpoint_id: [0, 4], identity: [4, 4], flags: [8, 4], pad: [12, 4],
  }),
  config: defineLayout('tycho_config', 32, {
    report_interval_ns: [0, 8], l7_ports: [8, 2 * L7_PORTS_MAX], payload_max: [24, 4], pad: [28, 4],
  }),
  flowEvent: defineLayout('tycho_flow_event', 112, {
    ts_ns: [0, 8], type: [8, 1], sub_type: [9, 1], obs_point: [10, 1], verdict: [11, 1], ifindex: [12, 4],
    endpoint_id: [16, 4], is_reply: [20, 1], tcp_flags: [21, 1], drop_reason: [22, 1], policy_match: [23, 1],
    tuple: [24, 40], src_identity: [64, 4], dst_identity: [68, 4], packets_fwd: [72, 8], bytes_fwd: [80, 8],
    packets_rev: [88, 8], bytes_rev: [96, 8], pkt_len: [104, 4], payload_len: [108, 2], pad1: [110, 2],
  }),
  flowEventPayload: defineLayout('tycho_flow_event_payload', 112 + PAYLOAD_MAX, {
    hdr: [0, 112], payload: [112, PAYLOAD_MAX],
  }),
} as const;

/** Encodes and decodes one C type; `size` is its sizeof. */
export interface Codec<T> {
  size: number;
  encode(value: T, view: DataView, offset: number): void;
  decode(view: DataView, offset: number): T;
}

/** Encodes `value` into a fresh Buffer of codec.size bytes. */
export function encodeToBuffer<T>(codec: Codec<T>, value: T): Buffer {
  const buffer = Buffer.alloc(codec.size);
  codec.encode(value, viewOf(buffer), 0);
  return buffer;
}

export function decodeFromBuffer<T>(codec: Codec<T>, buffer: Uint8Array, offset = 0): T {
  return codec.decode(viewOf(buffer), offset);
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function bytesOf(view: DataView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

const TWO_POW_32 = 4_294_967_296;

/** u64 as a number: exact below 2^53, which counters and boot-time ns stay under. */
export function readU64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * TWO_POW_32;
}

export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % TWO_POW_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_POW_32), true);
}

export const u32Codec: Codec<number> = {
  size: 4,
  encode: (value, view, offset) => view.setUint32(offset, value, true),
  decode: (view, offset) => view.getUint32(offset, true),
};

export const u64Codec: Codec<number> = {
  size: 8,
  encode: (value, view, offset) => writeU64(view, offset, value),
  decode: readU64,
};

// ---- struct tycho_tuple ----

export interface Tuple {
  family: 4 | 6;
  proto: number;
  saddr: string;
  daddr: string;
  /** Host order. For ICMP the datapath puts the type here and the code in dport. */
  sport: number;
  dport: number;
}

const T = layouts.tuple.at;

function readAddress(bytes: Uint8Array, offset: number, family: number): string {
  return family === 6 ? ipv6ToString(bytes, offset) : ipv4ToString(bytes, offset);
}

export const tupleCodec: Codec<Tuple> = {
  size: layouts.tuple.size,
  encode(value, view, offset) {
    const bytes = bytesOf(view);
    const sfamily = writeIpAddress(value.saddr, bytes, offset + T.saddr);
    const dfamily = writeIpAddress(value.daddr, bytes, offset + T.daddr);
    if (sfamily !== value.family || dfamily !== value.family) {
      throw new Error(`tuple ${value.saddr} -> ${value.daddr}: addresses do not match family ${value.family}`);
    }
    view.setUint16(offset + T.sport, value.sport, false);
    view.setUint16(offset + T.dport, value.dport, false);
    view.setUint8(offset + T.proto, value.proto);
    view.setUint8(offset + T.family, value.family);
    view.setUint16(offset + T.pad, 0);
  },
  decode(view, offset) {
    const bytes = bytesOf(view);
    const family = view.getUint8(offset + T.family) === 6 ? 6 : 4;
    return {
      family,
      proto: view.getUint8(offset + T.proto),
      saddr: readAddress(bytes, offset + T.saddr, family),
      daddr: readAddress(bytes, offset + T.daddr, family),
      sport: view.getUint16(offset + T.sport, false),
      dport: view.getUint16(offset + T.dport, false),
    };
  },
};

// ---- struct tycho_ct_key4 / tycho_ct_key6 / tycho_ct_entry ----

/** A connection at one endpoint veth, its two ends in canonical order: saddr:sport is
 * the lower address (as a number), or the lower port for equal addresses (bpf/lib/conntrack.h).
 * IPv4 connections are keyed in `tycho_ct4` (ctKey4Codec), IPv6 ones in `tycho_ct6` (ctKey6Codec). */
export interface CtKey {
  family: 4 | 6;
  proto: number;
  saddr: string;
  daddr: string;
  /** Host order. ICMP echo messages: the identifier on the requester's end, 0 on the other. */
  sport: number;
  dport: number;
  ifindex: number;
}

/** An address as writeIpAddress lays it out, before its first 4 (IPv4) or 16 bytes are copied into a key. */
const addressScratch = new Uint8Array(16);

function ctKeyCodec(family: 4 | 6, layout: typeof layouts.ctKey4 | typeof layouts.ctKey6): Codec<CtKey> {
  const at = layout.at;
  return {
    size: layout.size,
    encode(value, view, offset) {
      if (value.family !== family) throw new Error(`${layout.name} holds IPv${family} connections, got an IPv${value.family} key`);
      const bytes = bytesOf(view);
      for (const [address, field] of [[value.saddr, layout.fields.saddr], [value.daddr, layout.fields.daddr]] as const) {
        if (writeIpAddress(address, addressScratch, 0) !== family) {
          throw new Error(`${layout.name}: ${value.saddr} -> ${value.daddr} are not both IPv${family} addresses`);
        }
        bytes.set(addressScratch.subarray(0, field.size), offset + field.offset);
      }
      view.setUint16(offset + at.sport, value.sport, false);
      view.setUint16(offset + at.dport, value.dport, false);
      view.setUint32(offset + at.ifindex, value.ifindex, true);
      view.setUint8(offset + at.proto, value.proto);
      for (let i = 0; i < layout.fields.pad.size; i++) view.setUint8(offset + at.pad + i, 0);
    },
    decode(view, offset) {
      const bytes = bytesOf(view);
      return {
        family,
        proto: view.getUint8(offset + at.proto),
        saddr: readAddress(bytes, offset + at.saddr, family),
        daddr: readAddress(bytes, offset + at.daddr, family),
        sport: view.getUint16(offset + at.sport, false),
        dport: view.getUint16(offset + at.dport, false),
        ifindex: view.getUint32(offset + at.ifindex, true),
      };
    },
  };
}

export const ctKey4Codec: Codec<CtKey> = ctKeyCodec(4, layouts.ctKey4);
export const ctKey6Codec: Codec<CtKey> = ctKeyCodec(6, layouts.ctKey6);

export interface CtEntry {
  packetsFwd: number;
  bytesFwd: number;
  packetsRev: number;
  bytesRev: number;
  lastSeenNs: number;
  /** The next periodic report is due from this time on (conntrack's clock, as lastSeenNs). */
  reportAtNs: number;
  flagsFwd: number;
  flagsRev: number;
  /** The key's daddr end opened the connection: its packets are the "fwd" direction. */
  openedByDaddr: boolean;
  /** Either port was an L7 port when the connection opened: its payload goes into events. */
  l7Payload: boolean;
  obsPoint: number;
  firstSeenNs: number;
  srcIdentity: number;
  dstIdentity: number;
}

const C = layouts.ctEntry.at;

export const ctEntryCodec: Codec<CtEntry> = {
  size: layouts.ctEntry.size,
  encode(value, view, offset) {
    new Uint8Array(view.buffer, view.byteOffset + offset, layouts.ctEntry.size).fill(0);
    writeU64(view, offset + C.packets_fwd, value.packetsFwd);
    writeU64(view, offset + C.bytes_fwd, value.bytesFwd);
    writeU64(view, offset + C.packets_rev, value.packetsRev);
    writeU64(view, offset + C.bytes_rev, value.bytesRev);
    writeU64(view, offset + C.last_seen_ns, value.lastSeenNs);
    writeU64(view, offset + C.report_at_ns, value.reportAtNs);
    view.setUint8(offset + C.flags_fwd, value.flagsFwd);
    view.setUint8(offset + C.flags_rev, value.flagsRev);
    view.setUint8(offset + C.opened_by_daddr, value.openedByDaddr ? 1 : 0);
    view.setUint8(offset + C.l7_payload, value.l7Payload ? 1 : 0);
    view.setUint8(offset + C.obs_point, value.obsPoint);
    writeU64(view, offset + C.first_seen_ns, value.firstSeenNs);
    view.setUint32(offset + C.src_identity, value.srcIdentity, true);
    view.setUint32(offset + C.dst_identity, value.dstIdentity, true);
  },
  decode(view, offset) {
    return {
      packetsFwd: readU64(view, offset + C.packets_fwd),
      bytesFwd: readU64(view, offset + C.bytes_fwd),
      packetsRev: readU64(view, offset + C.packets_rev),
      bytesRev: readU64(view, offset + C.bytes_rev),
      lastSeenNs: readU64(view, offset + C.last_seen_ns),
      reportAtNs: readU64(view, offset + C.report_at_ns),
      flagsFwd: view.getUint8(offset + C.flags_fwd),
      flagsRev: view.getUint8(offset + C.flags_rev),
      openedByDaddr: view.getUint8(offset + C.opened_by_daddr) !== 0,
      l7Payload: view.getUint8(offset + C.l7_payload) !== 0,
      obsPoint: view.getUint8(offset + C.obs_point),
      firstSeenNs: readU64(view, offset + C.first_seen_ns),
      srcIdentity: view.getUint32(offset + C.src_identity, true),
      dstIdentity: view.getUint32(offset + C.dst_identity, true),
    };
  },
};

// ---- struct tycho_endpoint_info ----

export interface EndpointInfo {
  endpointId: number;
  identity: number;
  flags: number;
}

const P = layouts.endpointInfo.at;

export const endpointInfoCodec: Codec<EndpointInfo> = {
  size: layouts.endpointInfo.size,
  encode(value, view, offset) {
    view.setUint32(offset + P.endpoint_id, value.endpointId, true);
    view.setUint32(offset + P.identity, value.identity, true);
    view.setUint32(offset + P.flags, value.flags, true);
    view.setUint32(offset + P.pad, 0, true);
  },
  decode(view, offset) {
    return {
      endpointId: view.getUint32(offset + P.endpoint_id, true),
      identity: view.getUint32(offset + P.identity, true),
      flags: view.getUint32(offset + P.flags, true),
    };
  },
};

// ---- struct tycho_config ----

export interface DatapathConfig {
  reportIntervalNs: number;
  /** At most L7_PORTS_MAX ports, host order. */
  l7Ports: number[];
  /** Bytes of L7 payload copied into events, at most PAYLOAD_MAX. */
  payloadMax: number;
}

const G = layouts.config.at;

export const configCodec: Codec<DatapathConfig> = {
  size: layouts.config.size,
  encode(value, view, offset) {
    if (value.l7Ports.length > L7_PORTS_MAX) {
      throw new Error(`at most ${L7_PORTS_MAX} L7 ports fit in tycho_config, got ${value.l7Ports.length}`);
    }
    writeU64(view, offset + G.report_interval_ns, value.reportIntervalNs);
    for (let i = 0; i < L7_PORTS_MAX; i++) view.setUint16(offset + G.l7_ports + 2 * i, value.l7Ports[i] ?? 0, true);
    view.setUint32(offset + G.payload_max, value.payloadMax, true);
    view.setUint32(offset + G.pad, 0, true);
  },
  decode(view, offset) {
    const l7Ports: number[] = [];
    for (let i = 0; i < L7_PORTS_MAX; i++) {
      const port = view.getUint16(offset + G.l7_ports + 2 * i, true);
      if (port !== 0) l7Ports.push(port);
    }
    return {
      reportIntervalNs: readU64(view, offset + G.report_interval_ns),
      l7Ports,
      payloadMax: view.getUint32(offset + G.payload_max, true),
    };
  },
};

// ---- struct tycho_flow_event (+ payload) ----

export interface FlowEvent {
  tsNs: number;
  type: number;
  subType: number;
  obsPoint: number;
  verdict: number;
  ifindex: number;
  endpointId: number;
  isReply: boolean;
  tcpFlags: number;
  dropReason: number;
  /** Policy-verdict events: the kind of policy key that matched (PolicyMatchType); 0 otherwise. */
  policyMatch: number;
  family: 4 | 6;
  proto: number;
  saddr: string;
  daddr: string;
  /** Host order. For ICMP/ICMPv6: sport is the ICMP type, dport the code. */
  sport: number;
  dport: number;
  srcIdentity: number;
  dstIdentity: number;
  packetsFwd: number;
  bytesFwd: number;
  packetsRev: number;
  bytesRev: number;
  pktLen: number;
  payload: Uint8Array | undefined;
}

const E = layouts.flowEvent.at;
const E_TUPLE = E.tuple;
const EVENT_SIZE = layouts.flowEvent.size;
const PAYLOAD_OFFSET = layouts.flowEventPayload.at.payload;

/**
 * Decodes the event of `length` bytes at `offset`. The payload, if any, is a
 * view into `bytes`, not a copy. Hot path: no allocation but the result and
 * the address strings.
 */
export function decodeFlowEvent(bytes: Uint8Array, view: DataView, offset: number, length: number): FlowEvent {
  if (length < EVENT_SIZE) {
    throw new Error(`flow event record of ${length} bytes at offset ${offset}; expected at least ${EVENT_SIZE}`);
  }
  const family = view.getUint8(offset + E_TUPLE + T.family) === 6 ? 6 : 4;
  const payloadLen = view.getUint16(offset + E.payload_len, true);
  let payload: Uint8Array | undefined;
  if (payloadLen > 0) {
    if (PAYLOAD_OFFSET + payloadLen > length) {
      throw new Error(`flow event at offset ${offset} claims ${payloadLen} payload bytes but its record has ${length - PAYLOAD_OFFSET}`);
    }
    payload = new Uint8Array(bytes.buffer, bytes.byteOffset + offset + PAYLOAD_OFFSET, payloadLen);
  }
  return {
    tsNs: readU64(view, offset + E.ts_ns),
    type: view.getUint8(offset + E.type),
    subType: view.getUint8(offset + E.sub_type),
    obsPoint: view.getUint8(offset + E.obs_point),
    verdict: view.getUint8(offset + E.verdict),
    ifindex: view.getUint32(offset + E.ifindex, true),
    endpointId: view.getUint32(offset + E.endpoint_id, true),
    isReply: view.getUint8(offset + E.is_reply) !== 0,
    tcpFlags: view.getUint8(offset + E.tcp_flags),
    dropReason: view.getUint8(offset + E.drop_reason),
    policyMatch: view.getUint8(offset + E.policy_match),
    family,
    proto: view.getUint8(offset + E_TUPLE + T.proto),
    saddr: family === 6 ? ipv6ToString(bytes, offset + E_TUPLE + T.saddr) : ipv4ToString(bytes, offset + E_TUPLE + T.saddr),
    daddr: family === 6 ? ipv6ToString(bytes, offset + E_TUPLE + T.daddr) : ipv4ToString(bytes, offset + E_TUPLE + T.daddr),
    sport: view.getUint16(offset + E_TUPLE + T.sport, false),
    dport: view.getUint16(offset + E_TUPLE + T.dport, false),
    srcIdentity: view.getUint32(offset + E.src_identity, true),
    dstIdentity: view.getUint32(offset + E.dst_identity, true),
    packetsFwd: readU64(view, offset + E.packets_fwd),
    bytesFwd: readU64(view, offset + E.bytes_fwd),
    packetsRev: readU64(view, offset + E.packets_rev),
    bytesRev: readU64(view, offset + E.bytes_rev),
    pktLen: view.getUint32(offset + E.pkt_len, true),
    payload,
  };
}

/** Decodes a ring-buffer batch (see ringBufferReader.ts) of flow events. */
export function decodeFlowEventBatch(batch: Uint8Array): FlowEvent[] {
  const view = viewOf(batch);
  const events: FlowEvent[] = [];
  for (let at = 0; at + RECORD_HEADER_BYTES <= batch.byteLength; ) {
    const length = view.getUint32(at, true);
    events.push(decodeFlowEvent(batch, view, at + RECORD_HEADER_BYTES, length));
    at = nextRecordOffset(at, length);
  }
  return events;
}

/** Encodes an event as the datapath would, payload included; for tests and benchmarks. */
export function encodeFlowEvent(event: FlowEvent): Buffer {
  const payload = event.payload;
  const buffer = Buffer.alloc(payload ? layouts.flowEventPayload.size : EVENT_SIZE);
  const view = viewOf(buffer);
  writeU64(view, E.ts_ns, event.tsNs);
  view.setUint8(E.type, event.type);
  view.setUint8(E.sub_type, event.subType);
  view.setUint8(E.obs_point, event.obsPoint);
  view.setUint8(E.verdict, event.verdict);
  view.setUint32(E.ifindex, event.ifindex, true);
  view.setUint32(E.endpoint_id, event.endpointId, true);
  view.setUint8(E.is_reply, event.isReply ? 1 : 0);
  view.setUint8(E.tcp_flags, event.tcpFlags);
  view.setUint8(E.drop_reason, event.dropReason);
  view.setUint8(E.policy_match, event.policyMatch);
  tupleCodec.encode(event, view, E.tuple);
  view.setUint32(E.src_identity, event.srcIdentity, true);
  view.setUint32(E.dst_identity, event.dstIdentity, true);
  writeU64(view, E.packets_fwd, event.packetsFwd);
  writeU64(view, E.bytes_fwd, event.bytesFwd);
  writeU64(view, E.packets_rev, event.packetsRev);
  writeU64(view, E.bytes_rev, event.bytesRev);
  view.setUint32(E.pkt_len, event.pktLen, true);
  if (payload) {
    if (payload.length > PAYLOAD_MAX) throw new Error(`payload of ${payload.length} bytes exceeds PAYLOAD_MAX ${PAYLOAD_MAX}`);
    view.setUint16(E.payload_len, payload.length, true);
    buffer.set(payload, PAYLOAD_OFFSET);
  }
  return buffer;
}
