import { describe, expect, it } from 'vitest';

import { btfStructLayout } from './btfLayout.ts';
import {
  configCodec,
  ctEntryCodec,
  ctKey4Codec,
  ctKey6Codec,
  decodeFlowEventBatch,
  decodeFromBuffer,
  encodeFlowEvent,
  encodeToBuffer,
  endpointInfoCodec,
  layouts,
  tupleCodec,
  type Codec,
  type FlowEvent,
  type StructLayout,
} from './codecs.ts';
import { EventType, IpProto, ObsPoint, TraceReason, Verdict } from './constants.ts';
import { DEFAULT_OBJECT_PATH } from './nodeDatapath.ts';
import { RECORD_HEADER_BYTES } from './ringBufferReader.ts';

const allLayouts: StructLayout[] = Object.values(layouts);

describe('codec layouts match the BTF of bpf_lxc.o', () => {
  it.each(allLayouts.map((layout) => [layout.name, layout] as const))('%s has the compiled size', (name, layout) => {
    expect(layout.size).toBe(btfStructLayout(DEFAULT_OBJECT_PATH, name).size);
  });

  it.each(allLayouts.map((layout) => [layout.name, layout] as const))(
    '%s has every compiled member at the compiled offset and size',
    (name, layout) => {
      const compiled = btfStructLayout(DEFAULT_OBJECT_PATH, name).members.map((m) => ({
        name: m.name,
        offset: m.offsetBytes,
        size: m.sizeBytes,
      }));
      const ours = Object.entries(layout.fields).map(([field, f]) => ({ name: field, offset: f.offset, size: f.size }));
      expect(ours).toEqual(compiled);
    },
  );

  it('codec sizes equal their layouts', () => {
    const pairs: [Codec<unknown>, StructLayout][] = [
      [tupleCodec as Codec<unknown>, layouts.tuple],
      [ctKey4Codec as Codec<unknown>, layouts.ctKey4],
      [ctKey6Codec as Codec<unknown>, layouts.ctKey6],
      [ctEntryCodec as Codec<unknown>, layouts.ctEntry],
      [endpointInfoCodec as Codec<unknown>, layouts.endpointInfo],
      [configCodec as Codec<unknown>, layouts.config],
    ];
    for (const [codec, layout] of pairs) expect(codec.size, layout.name).toBe(layout.size);
  });
});

describe('conntrack element layout (bpf/include/tycho/abi.h)', () => {
  // The kernel's preallocated hash element: a 48-byte struct htab_elem, the key
  // rounded up to 8 bytes, then the value rounded up to 8 bytes.
  const HTAB_ELEM_HEADER = 48;
  const CACHE_LINE = 64;
  const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;
  const valueStart = HTAB_ELEM_HEADER + roundUp8(layouts.ctKey4.size);
  const hotEnd = layouts.ctEntry.at.first_seen_ns;

  it('an IPv4 element is exactly three cache lines', () => {
    expect(valueStart + roundUp8(layouts.ctEntry.size)).toBe(3 * CACHE_LINE);
  });

  it("the fields an established packet touches lie on the element's second cache line", () => {
    expect(Math.floor(valueStart / CACHE_LINE)).toBe(1);
    expect(Math.floor((valueStart + hotEnd - 1) / CACHE_LINE)).toBe(1);
    for (const field of ['packets_fwd', 'bytes_fwd', 'packets_rev', 'bytes_rev', 'last_seen_ns', 'report_at_ns', 'flags_fwd', 'flags_rev', 'opened_by_daddr', 'l7_payload'] as const) {
      const { offset, size } = layouts.ctEntry.fields[field];
      expect(offset + size, field).toBeLessThanOrEqual(hotEnd);
    }
  });
});

describe('codecs round-trip', () => {
  it('an IPv4 conntrack key, addresses in its 4-byte fields and ports in network order', () => {
    const key = { family: 4 as const, proto: IpProto.TCP, saddr: '10.244.0.5', daddr: '10.96.0.10', sport: 40000, dport: 53, ifindex: 17 };
    const bytes = encodeToBuffer(ctKey4Codec, key);
    expect([...bytes.subarray(layouts.ctKey4.at.daddr, layouts.ctKey4.at.daddr + 4)]).toEqual([10, 96, 0, 10]);
    expect(bytes.readUInt16BE(layouts.ctKey4.at.dport)).toBe(53);
    expect(decodeFromBuffer(ctKey4Codec, bytes)).toEqual(key);
  });

  it('an IPv6 conntrack key', () => {
    const key = { family: 6 as const, proto: IpProto.UDP, saddr: 'fd00::1', daddr: '2001:db8::abcd:1', sport: 5353, dport: 53, ifindex: 3 };
    expect(decodeFromBuffer(ctKey6Codec, encodeToBuffer(ctKey6Codec, key))).toEqual(key);
  });

  it('a conntrack key of the other family is refused with the map it was meant for', () => {
    const key = { family: 6 as const, proto: IpProto.TCP, saddr: 'fd00::1', daddr: 'fd00::2', sport: 1, dport: 2, ifindex: 1 };
    expect(() => encodeToBuffer(ctKey4Codec, key)).toThrow(/tycho_ct_key4 holds IPv4 connections, got an IPv6 key/);
    expect(() => encodeToBuffer(ctKey4Codec, { ...key, family: 4 })).toThrow(/not both IPv4 addresses/);
  });

  it('an IPv6 tuple, with ports in network order on the wire', () => {
    const tuple = { family: 6 as const, proto: IpProto.UDP, saddr: 'fd00::1', daddr: '2001:db8::abcd:1', sport: 5353, dport: 53 };
    const bytes = encodeToBuffer(tupleCodec, tuple);
    expect(bytes.readUInt16BE(layouts.tuple.at.sport)).toBe(5353);
    expect(decodeFromBuffer(tupleCodec, bytes)).toEqual(tuple);
  });

  it('a conntrack entry', () => {
    const entry = {
      packetsFwd: 4, bytesFwd: 5, packetsRev: 6, bytesRev: 2 ** 33 + 7, lastSeenNs: 2 ** 40, reportAtNs: 3,
      flagsFwd: 0x12, flagsRev: 0x11, openedByDaddr: true, l7Payload: true, obsPoint: ObsPoint.TO_ENDPOINT,
      firstSeenNs: 1, srcIdentity: 256, dstIdentity: 2,
    };
    expect(decodeFromBuffer(ctEntryCodec, encodeToBuffer(ctEntryCodec, entry))).toEqual(entry);
  });

  it('the config, unused port slots left zero', () => {
    const config = { reportIntervalNs: 5_000_000_000, l7Ports: [53, 80, 8080], payloadMax: 256 };
    const bytes = encodeToBuffer(configCodec, config);
    expect(bytes.readUInt16LE(layouts.config.at.l7_ports + 6)).toBe(0);
    expect(decodeFromBuffer(configCodec, bytes)).toEqual(config);
  });

  it('the config refuses more ports than tycho_config holds', () => {
    expect(() => encodeToBuffer(configCodec, { reportIntervalNs: 1, l7Ports: [1, 2, 3, 4, 5, 6, 7, 8, 9], payloadMax: 0 })).toThrow(
      /at most 8 L7 ports/,
    );
  });

  it('an endpoint info', () => {
    const info = { endpointId: 12, identity: 4096, flags: 1 };
    expect(decodeFromBuffer(endpointInfoCodec, encodeToBuffer(endpointInfoCodec, info))).toEqual(info);
  });
});

function sampleEvent(overrides: Partial<FlowEvent> = {}): FlowEvent {
  return {
    tsNs: 123_456_789_012, type: EventType.TRACE, subType: TraceReason.NEW, obsPoint: ObsPoint.FROM_ENDPOINT,
    verdict: Verdict.FORWARDED, ifindex: 7, endpointId: 42, isReply: false, tcpFlags: 0x02, dropReason: 0, policyMatch: 0,
    family: 4, proto: IpProto.TCP, saddr: '10.244.0.7', daddr: '10.244.1.9', sport: 51234, dport: 8080,
    srcIdentity: 256, dstIdentity: 257, packetsFwd: 1, bytesFwd: 74, packetsRev: 0, bytesRev: 0, pktLen: 74,
    payload: undefined, ...overrides,
  };
}

function frame(records: Buffer[]): Buffer {
  return Buffer.concat(
    records.map((record) => {
      const header = Buffer.alloc(RECORD_HEADER_BYTES);
      header.writeUInt32LE(record.length, 0);
      return Buffer.concat([header, record, Buffer.alloc(((record.length + 7) & ~7) - record.length)]);
    }),
  );
}

describe('flow event batches', () => {
  it('decode every record of a batch in order', () => {
    const events = [sampleEvent(), sampleEvent({ isReply: true, sport: 8080, dport: 51234, subType: TraceReason.FLAGS })];
    expect(decodeFlowEventBatch(frame(events.map(encodeFlowEvent)))).toEqual(events);
  });

  it('decode a payload event with exactly payload_len bytes', () => {
    const event = sampleEvent({ proto: IpProto.UDP, dport: 53, subType: TraceReason.PAYLOAD, payload: new Uint8Array([1, 2, 3]) });
    const [decoded] = decodeFlowEventBatch(frame([encodeFlowEvent(event)]));
    expect(decoded?.payload).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('decode IPv6 addresses in RFC 5952 form', () => {
    const event = sampleEvent({ family: 6, saddr: 'fd00:10:244::7', daddr: '2001:db8:0:1:1:1:1:1' });
    const [decoded] = decodeFlowEventBatch(frame([encodeFlowEvent(event)]));
    expect([decoded?.saddr, decoded?.daddr]).toEqual(['fd00:10:244::7', '2001:db8:0:1:1:1:1:1']);
  });

  it('refuse a record shorter than an event', () => {
    expect(() => decodeFlowEventBatch(frame([Buffer.alloc(16)]))).toThrow(/record of 16 bytes/);
  });
});
