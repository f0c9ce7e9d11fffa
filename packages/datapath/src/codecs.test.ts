import { describe, expect, it } from 'vitest';

import { btfStructLayout } from './btfLayout.ts';
import {
  configCodec,
  ctEntryCodec,
  ctKeyCodec,
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
      [ctKeyCodec as Codec<unknown>, layouts.ctKey],
      [ctEntryCodec as Codec<unknown>, layouts.ctEntry],
      [endpointInfoCodec as Codec<unknown>, layouts.endpointInfo],
      [configCodec as Codec<unknown>, layouts.config],
    ];
    for (const [codec, layout] of pairs) expect(codec.size, layout.name).toBe(layout.size);
  });
});

describe('codecs round-trip', () => {
  it('an IPv4 conntrack key', () => {
    const key = { tuple: { family: 4 as const, proto: IpProto.TCP, saddr: '10.244.0.5', daddr: '10.96.0.10', sport: 40000, dport: 53 }, ifindex: 17 };
    expect(decodeFromBuffer(ctKeyCodec, encodeToBuffer(ctKeyCodec, key))).toEqual(key);
  });

  it('an IPv6 tuple, with ports in network order on the wire', () => {
    const tuple = { family: 6 as const, proto: IpProto.UDP, saddr: 'fd00::1', daddr: '2001:db8::abcd:1', sport: 5353, dport: 53 };
    const bytes = encodeToBuffer(tupleCodec, tuple);
    expect(bytes.readUInt16BE(layouts.tuple.at.sport)).toBe(5353);
    expect(decodeFromBuffer(tupleCodec, bytes)).toEqual(tuple);
  });

  it('a conntrack entry', () => {
    const entry = {
      firstSeenNs: 1, lastSeenNs: 2 ** 40, lastReportNs: 3, packetsFwd: 4, bytesFwd: 5, packetsRev: 6, bytesRev: 2 ** 33 + 7,
      flagsFwd: 0x12, flagsRev: 0x11, obsPoint: ObsPoint.TO_ENDPOINT, openedByDaddr: true, srcIdentity: 256, dstIdentity: 2,
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
    verdict: Verdict.FORWARDED, ifindex: 7, endpointId: 42, isReply: false, tcpFlags: 0x02, dropReason: 0,
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
