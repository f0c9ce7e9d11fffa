// bpf_lxc.o's from_container / to_container programs, run on synthetic
// packets with BPF_PROG_TEST_RUN. Test runs see skb->ifindex 1 (loopback),
// so the endpoint is registered for ifindex 1; nothing is attached anywhere.
// Test runs build linear skbs, where the programs read headers in place; the
// behaviour tests run a second time on test_lxc_load_bytes.o, the same
// programs built to copy every header with bpf_skb_load_bytes() as they do
// for paged skbs.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { BpfMap } from './bpfMap.ts';
import { BpfObject } from './bpfObject.ts';
import { ctEntryCodec, ctKey4Codec, ctKey6Codec, endpointInfoCodec, u32Codec, type CtEntry, type CtKey, type FlowEvent } from './codecs.ts';
import { EventType, IpProto, ObsPoint, TcpFlag, TraceReason, Verdict } from './constants.ts';
import { DEFAULT_CONFIG, DEFAULT_OBJECT_PATH, NodeDatapath } from './nodeDatapath.ts';
import { buildPacket, type PacketSpec } from './packetBuilder.ts';
import { testRun } from './testRun.ts';

const TC_ACT_OK = 0;
const TEST_IFINDEX = 1;
const ENDPOINT = { endpointId: 42, identity: 4242, flags: 0 };
const POD = '10.244.0.7';
const PEER = '10.244.1.9';

const LOAD_BYTES_OBJECT_PATH = fileURLToPath(new URL('../../../bpf/build/test_lxc_load_bytes.o', import.meta.url));

const pinDir = `/sys/fs/bpf/tycho-test-${randomBytes(4).toString('hex')}`;
let datapath: NodeDatapath;
let programs: BpfObject;
let loadBytesPrograms: BpfObject;
/** The build `send` runs packets through. */
let active: BpfObject;
let conntrack: BpfMap<CtKey, CtEntry>;
let conntrack6: BpfMap<CtKey, CtEntry>;
let received: FlowEvent[] = [];

beforeAll(() => {
  datapath = NodeDatapath.open({ pinDir });
  datapath.onEvents((batch) => received.push(...batch));
  // A second load sharing the pinned maps, for direct map access and program fds.
  programs = BpfObject.open(DEFAULT_OBJECT_PATH, { pinRoot: pinDir });
  loadBytesPrograms = BpfObject.open(LOAD_BYTES_OBJECT_PATH, { pinRoot: pinDir });
  active = programs;
  programs.map('tycho_endpoints', u32Codec, endpointInfoCodec).set(TEST_IFINDEX, ENDPOINT);
  conntrack = programs.map('tycho_ct4', ctKey4Codec, ctEntryCodec);
  conntrack6 = programs.map('tycho_ct6', ctKey6Codec, ctEntryCodec);
});

afterAll(() => {
  datapath?.close();
  programs?.close();
  loadBytesPrograms?.close();
  NodeDatapath.removePins(pinDir);
});

beforeEach(() => {
  for (const map of [conntrack, conntrack6]) for (const key of [...map.keys()]) map.delete(key);
  datapath.setConfig(DEFAULT_CONFIG);
  datapath.drainEvents();
  received = [];
});

type Program = 'from_container' | 'to_container';

/** Conntrack's clock advances once per kernel tick (1-10 ms, bpf/lib/conntrack.h); this outlasts two. */
function waitForConntrackClock(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
}

/** Runs one packet through a program; returns the events it emitted. */
function send(program: Program, packet: Buffer | PacketSpec, repeat = 1): FlowEvent[] {
  const bytes = Buffer.isBuffer(packet) ? packet : buildPacket(packet).bytes;
  const { retval } = testRun(active.programFd(program), bytes, { repeat });
  expect(retval).toBe(TC_ACT_OK);
  received = [];
  datapath.drainEvents();
  return received;
}

const tcp = (flags: number, extra: Partial<PacketSpec> = {}): PacketSpec => ({
  saddr: POD, daddr: PEER, proto: IpProto.TCP, sport: 40000, dport: 8080, tcpFlags: flags, ...extra,
});
const tcpReply = (flags: number): PacketSpec => ({
  saddr: PEER, daddr: POD, proto: IpProto.TCP, sport: 8080, dport: 40000, tcpFlags: flags,
});

const builds: [string, () => BpfObject][] = [
  ['headers read in place (bpf_lxc.o)', () => programs],
  ['headers copied by bpf_skb_load_bytes (test_lxc_load_bytes.o)', () => loadBytesPrograms],
];

describe.each(builds)('with %s', (_build, build) => {
  beforeAll(() => {
    active = build();
  });
  afterAll(() => {
    active = programs;
  });

  describe('TCP connections', () => {
    it('a SYN from the pod emits exactly one NEW trace event describing the packet', () => {
      const syn = buildPacket(tcp(TcpFlag.SYN)).bytes;
      const events = send('from_container', syn);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: EventType.TRACE, subType: TraceReason.NEW, obsPoint: ObsPoint.FROM_ENDPOINT, verdict: Verdict.FORWARDED,
        ifindex: TEST_IFINDEX, endpointId: ENDPOINT.endpointId, srcIdentity: ENDPOINT.identity, dstIdentity: 0,
        isReply: false, tcpFlags: TcpFlag.SYN, dropReason: 0, family: 4, proto: IpProto.TCP,
        saddr: POD, daddr: PEER, sport: 40000, dport: 8080, packetsFwd: 1, bytesFwd: syn.length, packetsRev: 0,
        pktLen: syn.length, payload: undefined,
      });
    });

    it('an established packet emits nothing', () => {
      send('from_container', tcp(TcpFlag.SYN));
      expect(send('from_container', tcp(TcpFlag.ACK))).toEqual([]);
    });

    it('a retransmitted SYN emits nothing', () => {
      send('from_container', tcp(TcpFlag.SYN));
      expect(send('from_container', tcp(TcpFlag.SYN))).toEqual([]);
    });

    it('the SYN-ACK to the pod is a reply event with SYN|ACK at TO_ENDPOINT', () => {
      send('from_container', tcp(TcpFlag.SYN));
      const events = send('to_container', tcpReply(TcpFlag.SYN | TcpFlag.ACK));
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        subType: TraceReason.FLAGS, obsPoint: ObsPoint.TO_ENDPOINT, isReply: true, tcpFlags: TcpFlag.SYN | TcpFlag.ACK,
        saddr: PEER, daddr: POD, sport: 8080, dport: 40000, dstIdentity: ENDPOINT.identity, packetsFwd: 1, packetsRev: 1,
      });
    });

    it('a FIN emits one FLAGS event, its retransmission none', () => {
      send('from_container', tcp(TcpFlag.SYN));
      const events = send('from_container', tcp(TcpFlag.FIN | TcpFlag.ACK));
      expect(events.map((e) => [e.subType, e.tcpFlags])).toEqual([[TraceReason.FLAGS, TcpFlag.FIN | TcpFlag.ACK]]);
      expect(send('from_container', tcp(TcpFlag.FIN | TcpFlag.ACK))).toEqual([]);
    });

    it('a RST in reply emits one FLAGS event', () => {
      send('from_container', tcp(TcpFlag.SYN));
      const events = send('to_container', tcpReply(TcpFlag.RST | TcpFlag.ACK));
      expect(events.map((e) => [e.subType, e.isReply, e.tcpFlags])).toEqual([[TraceReason.FLAGS, true, TcpFlag.RST | TcpFlag.ACK]]);
    });

    it('a new SYN after the connection closed starts a new connection', () => {
      send('from_container', tcp(TcpFlag.SYN));
      send('from_container', tcp(TcpFlag.RST));
      const events = send('from_container', tcp(TcpFlag.SYN));
      expect(events.map((e) => [e.subType, e.packetsFwd])).toEqual([[TraceReason.NEW, 1]]);
    });

    it('conntrack counts packets and bytes each way', () => {
      const syn = buildPacket(tcp(TcpFlag.SYN)).bytes;
      const synAck = buildPacket(tcpReply(TcpFlag.SYN | TcpFlag.ACK)).bytes;
      send('from_container', syn);
      send('to_container', synAck);
      send('from_container', tcp(TcpFlag.ACK));
      const [entry] = [...conntrack.entries()];
      expect(entry?.[0]).toEqual({ family: 4, proto: IpProto.TCP, saddr: POD, daddr: PEER, sport: 40000, dport: 8080, ifindex: TEST_IFINDEX });
      expect(entry?.[1]).toMatchObject({
        packetsFwd: 2, bytesFwd: 2 * syn.length, packetsRev: 1, bytesRev: synAck.length,
        flagsFwd: TcpFlag.SYN | TcpFlag.ACK, flagsRev: TcpFlag.SYN | TcpFlag.ACK, obsPoint: ObsPoint.FROM_ENDPOINT,
        openedByDaddr: false,
      });
    });

    it('a connection opened from the higher address is keyed in canonical order and counts its opener as forward', () => {
      // PEER (10.244.1.9) sorts after POD (10.244.0.7): the key starts with POD's end.
      const syn = buildPacket(tcpReply(TcpFlag.SYN)).bytes;
      expect(send('to_container', syn).map((e) => [e.subType, e.isReply])).toEqual([[TraceReason.NEW, false]]);
      const synAck = send('from_container', tcp(TcpFlag.SYN | TcpFlag.ACK));
      expect(synAck.map((e) => [e.subType, e.isReply, e.packetsFwd, e.packetsRev])).toEqual([[TraceReason.FLAGS, true, 1, 1]]);
      expect(send('to_container', tcpReply(TcpFlag.ACK))).toEqual([]);
      const entries = [...conntrack.entries()];
      expect(entries).toHaveLength(1);
      expect(entries[0]?.[0]).toEqual({ family: 4, proto: IpProto.TCP, saddr: POD, daddr: PEER, sport: 40000, dport: 8080, ifindex: TEST_IFINDEX });
      expect(entries[0]?.[1]).toMatchObject({
        packetsFwd: 2, bytesFwd: 2 * syn.length, packetsRev: 1, flagsFwd: TcpFlag.SYN | TcpFlag.ACK, flagsRev: TcpFlag.SYN | TcpFlag.ACK,
        obsPoint: ObsPoint.TO_ENDPOINT, openedByDaddr: true,
      });
    });

    it('a SYN from the responder after the connection closed starts a new connection opened by the responder', () => {
      send('from_container', tcp(TcpFlag.SYN));
      send('to_container', tcpReply(TcpFlag.SYN | TcpFlag.ACK));
      send('from_container', tcp(TcpFlag.RST));
      const events = send('to_container', tcpReply(TcpFlag.SYN));
      expect(events.map((e) => [e.subType, e.isReply, e.packetsFwd, e.packetsRev])).toEqual([[TraceReason.NEW, false, 1, 0]]);
      const [entry] = [...conntrack.entries()];
      expect(entry?.[1]).toMatchObject({ openedByDaddr: true, obsPoint: ObsPoint.TO_ENDPOINT, flagsFwd: TcpFlag.SYN, flagsRev: 0 });
    });

    it('a long-lived connection reports once the report interval has passed', () => {
      datapath.setConfig({ reportIntervalNs: 1 });
      send('from_container', tcp(TcpFlag.SYN));
      waitForConntrackClock();
      const events = send('from_container', tcp(TcpFlag.ACK));
      expect(events.map((e) => [e.subType, e.packetsFwd])).toEqual([[TraceReason.REPORT, 2]]);
    });

    it('a report interval set while a connection is open applies from its next report', () => {
      send('from_container', tcp(TcpFlag.SYN));
      datapath.setConfig({ reportIntervalNs: 1 });
      waitForConntrackClock();
      expect(send('from_container', tcp(TcpFlag.ACK))).toEqual([]);
      const [key, entry] = [...conntrack.entries()][0]!;
      conntrack.set(key, { ...entry, reportAtNs: entry.lastSeenNs });
      expect(send('from_container', tcp(TcpFlag.ACK)).map((e) => e.subType)).toEqual([TraceReason.REPORT]);
      waitForConntrackClock();
      expect(send('from_container', tcp(TcpFlag.ACK)).map((e) => e.subType)).toEqual([TraceReason.REPORT]);
    });

    it('the entry records when the connection opened and when its first report is due', () => {
      send('from_container', tcp(TcpFlag.SYN));
      const [, entry] = [...conntrack.entries()][0]!;
      expect(entry.lastSeenNs).toBe(entry.firstSeenNs);
      expect(entry.reportAtNs - entry.firstSeenNs).toBe(DEFAULT_CONFIG.reportIntervalNs);
    });

    it('an IPv6 SYN emits a NEW event with IPv6 addresses', () => {
      const events = send('from_container', { saddr: 'fd00:10:244::7', daddr: 'fd00:10:244:1::9', proto: IpProto.TCP, sport: 40000, dport: 80, tcpFlags: TcpFlag.SYN });
      expect(events.map((e) => [e.subType, e.family, e.saddr, e.daddr, e.dport])).toEqual([
        [TraceReason.NEW, 6, 'fd00:10:244::7', 'fd00:10:244:1::9', 80],
      ]);
    });

    it('an IPv6 connection is tracked in tycho_ct6, keyed in canonical order, its reply counted as such', () => {
      const pod6 = 'fd00:10:244:1::9', peer6 = 'fd00:10:244::7';
      send('from_container', { saddr: pod6, daddr: peer6, proto: IpProto.TCP, sport: 40000, dport: 80, tcpFlags: TcpFlag.SYN });
      const synAck = send('to_container', { saddr: peer6, daddr: pod6, proto: IpProto.TCP, sport: 80, dport: 40000, tcpFlags: TcpFlag.SYN | TcpFlag.ACK });
      expect(synAck.map((e) => [e.subType, e.isReply])).toEqual([[TraceReason.FLAGS, true]]);
      expect([...conntrack.keys()]).toEqual([]);
      const entries = [...conntrack6.entries()];
      expect(entries.map(([key]) => key)).toEqual([
        { family: 6, proto: IpProto.TCP, saddr: peer6, daddr: pod6, sport: 80, dport: 40000, ifindex: TEST_IFINDEX },
      ]);
      expect(entries[0]?.[1]).toMatchObject({ packetsFwd: 1, packetsRev: 1, openedByDaddr: true, l7Payload: true });
    });
  });

  describe('ICMP', () => {
    const echo = (type: number, saddr: string, daddr: string): PacketSpec => ({ saddr, daddr, proto: IpProto.ICMP, icmpType: type, icmpId: 7 });

    it('an echo request emits a NEW event carrying type and code in the ports', () => {
      const events = send('from_container', echo(8, POD, PEER));
      expect(events.map((e) => [e.subType, e.proto, e.sport, e.dport, e.isReply])).toEqual([[TraceReason.NEW, IpProto.ICMP, 8, 0, false]]);
    });

    it('the echo reply belongs to the request and is counted as its reply', () => {
      send('from_container', echo(8, POD, PEER));
      expect(send('to_container', echo(0, PEER, POD))).toEqual([]);
      const [entry] = [...conntrack.entries()];
      expect(entry?.[1]).toMatchObject({ packetsFwd: 1, packetsRev: 1 });
    });

    it('an ICMPv6 echo request emits a NEW event', () => {
      const events = send('from_container', { saddr: 'fd00::7', daddr: 'fd00::9', proto: IpProto.ICMPV6, icmpType: 128, icmpId: 1 });
      expect(events.map((e) => [e.subType, e.proto, e.sport])).toEqual([[TraceReason.NEW, IpProto.ICMPV6, 128]]);
    });
  });

  describe('L7 payload', () => {
    const dnsQuery = Buffer.from('12340100000100000000000003777777066578616d706c6503636f6d0000010001', 'hex');
    const udp = (dport: number, payload: Uint8Array): PacketSpec => ({ saddr: POD, daddr: PEER, proto: IpProto.UDP, sport: 53000, dport, payload });

    it('a DNS query that opens a connection emits one NEW event carrying the query bytes', () => {
      const events = send('from_container', udp(53, dnsQuery));
      expect(events.map((e) => e.subType)).toEqual([TraceReason.NEW]);
      expect(events[0]?.payload).toEqual(new Uint8Array(dnsQuery));
      expect(events[0]).toMatchObject({ proto: IpProto.UDP, dport: 53, isReply: false });
    });

    it('a second DNS query on the same tuple emits one PAYLOAD event', () => {
      send('from_container', udp(53, dnsQuery));
      const events = send('from_container', udp(53, dnsQuery));
      expect(events.map((e) => [e.subType, e.payload?.length])).toEqual([[TraceReason.PAYLOAD, dnsQuery.length]]);
    });

    it('the DNS response is a payload event marked as reply', () => {
      send('from_container', udp(53, dnsQuery));
      const response = { saddr: PEER, daddr: POD, proto: IpProto.UDP, sport: 53, dport: 53000, payload: dnsQuery };
      const events = send('to_container', response);
      expect(events.map((e) => [e.subType, e.isReply, e.payload?.length])).toEqual([[TraceReason.PAYLOAD, true, dnsQuery.length]]);
    });

    it('payload is cut at payloadMax', () => {
      datapath.setConfig({ payloadMax: 10 });
      const events = send('from_container', tcp(TcpFlag.PSH | TcpFlag.ACK, { dport: 80, payload: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') }));
      expect(events).toHaveLength(1);
      expect(Buffer.from(events[0]?.payload ?? []).toString()).toBe('GET / HTTP');
    });

    it('payload on a port that is not an L7 port is not copied', () => {
      const events = send('from_container', udp(9999, Buffer.from('hello')));
      expect(events.map((e) => [e.subType, e.payload])).toEqual([[TraceReason.NEW, undefined]]);
    });

    it('configured L7 ports replace the defaults', () => {
      datapath.setConfig({ l7Ports: [9999] });
      const events = send('from_container', udp(9999, Buffer.from('hello')));
      expect(events.map((e) => [e.subType, e.payload?.length])).toEqual([[TraceReason.NEW, 5]]);
    });

    it('L7 ports configured while a connection is open apply to connections opened after them', () => {
      send('from_container', udp(9999, Buffer.from('hello')));
      datapath.setConfig({ l7Ports: [9999] });
      expect(send('from_container', udp(9999, Buffer.from('hello')))).toEqual([]);
      const events = send('from_container', { ...udp(9999, Buffer.from('hello')), sport: 53001 });
      expect(events.map((e) => [e.subType, e.payload?.length])).toEqual([[TraceReason.NEW, 5]]);
    });
  });

  describe('malformed packets', () => {
    function parseErrors(): number {
      return datapath.counters().parseErrors;
    }

    // Linux 6.18's BPF_PROG_TEST_RUN refuses an IPv4/IPv6 frame shorter than
    // its network header, so the cuts start at the end of the L3 header.
    const cutsOf = (spec: PacketSpec): number[] => {
      const { bytes, l3Offset, l4Offset, payloadOffset } = buildPacket(spec);
      return [...new Set([l3Offset, l3Offset + 1, l4Offset - 1, l4Offset, l4Offset + 1, payloadOffset - 1, payloadOffset, bytes.length - 1])]
        .filter((cut) => cut >= l4Offset && cut < bytes.length);
    };

    it.each([
      ['TCP', tcp(TcpFlag.SYN, { payload: Buffer.from('data') })],
      ['UDP', { saddr: POD, daddr: PEER, proto: IpProto.UDP, sport: 1, dport: 53, payload: Buffer.from('q') }],
      ['ICMP', { saddr: POD, daddr: PEER, proto: IpProto.ICMP, icmpType: 8 }],
      ['IPv6 TCP', { saddr: 'fd00::1', daddr: 'fd00::2', proto: IpProto.TCP, sport: 1, dport: 80, payload: Buffer.from('x') }],
    ] as [string, PacketSpec][])('a %s packet cut at any header boundary emits nothing and counts a parse error', (_name, spec) => {
      const full = buildPacket(spec).bytes;
      for (const cut of cutsOf(spec)) {
        const before = parseErrors();
        expect(send('from_container', full.subarray(0, cut)), `cut at ${cut}`).toEqual([]);
        expect(parseErrors(), `cut at ${cut}`).toBe(before + 1);
      }
    });

    it('an IPv4 header with a bad version or length emits nothing and counts a parse error', () => {
      const base = buildPacket(tcp(TcpFlag.SYN)).bytes;
      const badVersion = Buffer.from(base);
      badVersion[14] = 0x55;
      const shortIhl = Buffer.from(base);
      shortIhl[14] = 0x43;
      const before = parseErrors();
      expect(send('from_container', badVersion)).toEqual([]);
      expect(send('from_container', shortIhl)).toEqual([]);
      expect(parseErrors()).toBe(before + 2);
    });

    it('random bytes behind an IP ethertype emit nothing and count parse errors', () => {
      // Seeded so a failure reproduces; the version nibble never matches the ethertype.
      let seed = 0x7479c40;
      const nextByte = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      for (let i = 0; i < 64; i++) {
        const garbage = Buffer.from(Array.from({ length: 54 + (i % 80) }, nextByte));
        garbage.writeUInt16BE(i % 2 === 0 ? 0x0800 : 0x86dd, 12);
        garbage[14] = nextByte() & 0x0f;
        const before = parseErrors();
        expect(send('from_container', garbage), `garbage ${garbage.toString('hex')}`).toEqual([]);
        expect(parseErrors()).toBe(before + 1);
      }
    });

    it('a non-IP frame (ARP) is passed without events or parse errors', () => {
      const arp = Buffer.alloc(42);
      arp.writeUInt16BE(0x0806, 12);
      const before = parseErrors();
      expect(send('from_container', arp)).toEqual([]);
      expect(parseErrors()).toBe(before);
    });
  });
});

describe('counters', () => {
  it('count every packet and every event', () => {
    const before = datapath.counters();
    send('from_container', tcp(TcpFlag.SYN));
    send('from_container', tcp(TcpFlag.ACK));
    const after = datapath.counters();
    expect([after.packets - before.packets, after.events - before.events]).toEqual([2, 1]);
  });

  it('count events lost to a full ring buffer', () => {
    // 8 MiB hold about 22k payload events; one run of 30k DNS packets overflows it.
    const before = datapath.counters().lostEvents;
    testRun(programs.programFd('from_container'), buildPacket({ saddr: POD, daddr: PEER, proto: IpProto.UDP, sport: 5300, dport: 53, payload: Buffer.alloc(300) }).bytes, { repeat: 30_000 });
    expect(datapath.counters().lostEvents).toBeGreaterThan(before);
    datapath.drainEvents();
  });
});

describe('restarts', () => {
  it('conntrack survives reopening the datapath on the same pin dir', () => {
    send('from_container', tcp(TcpFlag.SYN));
    const reopened = NodeDatapath.open({ pinDir });
    try {
      const fresh = BpfObject.open(DEFAULT_OBJECT_PATH, { pinRoot: pinDir });
      try {
        const { retval } = testRun(fresh.programFd('from_container'), buildPacket(tcp(TcpFlag.ACK)).bytes);
        expect(retval).toBe(TC_ACT_OK);
      } finally {
        fresh.close();
      }
      received = [];
      datapath.drainEvents();
      expect(received).toEqual([]);
    } finally {
      reopened.close();
    }
  });
});
