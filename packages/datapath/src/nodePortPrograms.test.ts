// bpf_host.o's from_netdev / to_netdev (per-packet service translation at the
// node's uplink), run on synthetic packets with BPF_PROG_TEST_RUN. The lb maps
// are programmed directly; test runs see skb->ifindex 1 (loopback), so no
// backend is "reached back out of the uplink" and no SNAT happens here (the
// lab test covers a remote backend). Nothing is attached anywhere.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAGLEV_TABLE_SIZE, maglevFlowHash, maglevTable } from '@tycho/services';

import { btfStructLayout } from './btfLayout.ts';
import type { FlowEvent } from './codecs.ts';
import { DropReason, EventType, IpProto, ObsPoint, TcpFlag, Verdict } from './constants.ts';
import type { Lb4Key, Lb4Service, LbProtocol } from './lbCodecs.ts';
import { NodeDatapath } from './nodeDatapath.ts';
import { HOST_OBJECT_PATH, NodePortDatapath, ifindexOf, nodePortLayouts } from './nodePortDatapath.ts';
import { buildPacket, type PacketSpec } from './packetBuilder.ts';
import { ServiceDatapath } from './serviceDatapath.ts';
import { testRun } from './testRun.ts';

const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const ETH_HLEN = 14;

const NODE_IP = '172.31.0.2';
const CLIENT = '198.51.100.7';
const EXTERNAL_IP = '203.0.113.10';
const BACKENDS = [
  { id: 1, address: '10.97.0.11', port: 8080 },
  { id: 2, address: '10.97.0.12', port: 8080 },
  { id: 3, address: '10.97.0.13', port: 8080 },
] as const;
const NODE_PORT = 31414;
const EMPTY_NODE_PORT = 31999;
const AFFINITY_NODE_PORT = 31500;

const pinDir = `/sys/fs/bpf/tycho-test-host-${randomBytes(4).toString('hex')}`;
let node: NodeDatapath;
let services: ServiceDatapath;
let host: NodePortDatapath;
let received: FlowEvent[] = [];

const flags = (type: Lb4Service['flags']['type'], sessionAffinity = false, maglev = false): Lb4Service['flags'] => ({
  type, sessionAffinity, externalLocal: false, twoScopes: false, routable: true, maglev,
});

/** A frontend in the external scope with these backends in slots 1..n (`maglev`: flagged as having a table). */
function program(address: string, port: number, backendIds: readonly number[], revNatIndex: number, type: Lb4Service['flags']['type'], affinity = false, protocol: LbProtocol = 'TCP', maglev = false): void {
  const key = (backendSlot: number): Lb4Key => ({ address, port, protocol, scope: 'external', backendSlot });
  const f = flags(type, affinity, maglev);
  backendIds.forEach((backendId, i) => {
    services.services.set(key(i + 1), { backendId, count: 0, revNatIndex, flags: f, affinityTimeoutSeconds: 0 });
  });
  services.services.set(key(0), { backendId: 0, count: backendIds.length, revNatIndex, flags: f, affinityTimeoutSeconds: affinity ? 600 : 0 });
}

function clearConnections(): void {
  for (const map of [host.forward, host.reverse]) for (const key of [...map.keys()]) map.delete(key);
}

function clearMaps(): void {
  clearConnections();
  for (const key of [...services.services.keys()]) services.services.delete(key);
  for (const key of [...services.affinity.keys()]) services.affinity.delete(key);
  for (const key of [...services.maglev.keys()]) services.maglev.delete(key);
}

beforeAll(() => {
  node = NodeDatapath.open({ pinDir });
  node.onEvents((batch) => received.push(...batch));
  services = ServiceDatapath.open({ pinDir });
  host = NodePortDatapath.open({ pinDir });
  for (const b of BACKENDS) services.backends.set(b.id, { address: b.address, port: b.port, protocol: 'TCP', state: 'active' });
  services.setNodeAddresses([{ address: NODE_IP, local: true }]);
});

afterAll(() => {
  host?.close();
  services?.close();
  node?.close();
  NodeDatapath.removePins(pinDir);
});

beforeEach(() => {
  clearMaps();
  program('0.0.0.0', NODE_PORT, [1, 2, 3], 7, 'NodePort');
  program(EXTERNAL_IP, 80, [2], 8, 'ExternalIPs');
  program('0.0.0.0', EMPTY_NODE_PORT, [], 9, 'NodePort');
  program('0.0.0.0', 53, [1], 10, 'NodePort', false, 'UDP');
  node.drainEvents();
  received = [];
});

/** Ones' complement sum of 16-bit words. */
function sum16(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) | (i + 1 < end ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The TCP/UDP pseudo-header sum of an IPv4 packet. */
function pseudoHeaderSum(bytes: Buffer): number {
  const ip = ETH_HLEN;
  const l4Len = bytes.readUInt16BE(ip + 2) - 20;
  return sum16(bytes, ip + 12, ip + 20, bytes[ip + 9]! + l4Len);
}

/** The packet with its L4 checksum filled in (packetBuilder leaves it 0). */
function withL4Checksum(spec: PacketSpec): Buffer {
  const bytes = Buffer.from(buildPacket(spec).bytes);
  const l4 = ETH_HLEN + 20;
  const csumOff = l4 + (spec.proto === IpProto.TCP ? 16 : 6);
  bytes.writeUInt16BE(0, csumOff);
  bytes.writeUInt16BE(~sum16(bytes, l4, bytes.length, pseudoHeaderSum(bytes)) & 0xffff, csumOff);
  return bytes;
}

function checksumsValid(bytes: Buffer): { ip: boolean; l4: boolean } {
  const ip = sum16(bytes, ETH_HLEN, ETH_HLEN + 20) === 0xffff;
  const l4 = sum16(bytes, ETH_HLEN + 20, bytes.length, pseudoHeaderSum(bytes)) === 0xffff;
  return { ip, l4 };
}

interface Seen {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
}

function tuple(bytes: Buffer): Seen {
  const ip = ETH_HLEN;
  const addr = (o: number): string => [...bytes.subarray(ip + o, ip + o + 4)].join('.');
  return { saddr: addr(12), daddr: addr(16), sport: bytes.readUInt16BE(ip + 20), dport: bytes.readUInt16BE(ip + 22) };
}

function run(program: 'from_netdev' | 'to_netdev', spec: PacketSpec): { retval: number; out: Buffer; events: FlowEvent[] } {
  const { retval, dataOut } = testRun(host.programFd(program === 'from_netdev' ? 'ingress' : 'egress'), withL4Checksum(spec));
  received = [];
  node.drainEvents();
  return { retval, out: dataOut, events: received };
}

const toNodePort = (sport: number, tcpFlags: number = TcpFlag.SYN, dport = NODE_PORT): PacketSpec => ({
  saddr: CLIENT, daddr: NODE_IP, proto: IpProto.TCP, sport, dport, tcpFlags,
});

const backendAddresses = BACKENDS.map((b) => b.address);

describe('bpf_host.o layouts', () => {
  it.each(Object.values(nodePortLayouts).map((l) => [l.name, l] as const))('%s matches the compiled BTF', (_name, layout) => {
    const compiled = btfStructLayout(HOST_OBJECT_PATH, layout.name);
    expect(layout.size).toBe(compiled.size);
    const ours = Object.entries(layout.fields).map(([field, f]) => ({ name: field, offset: f.offset, size: f.size }));
    expect(ours).toEqual(compiled.members.map((m) => ({ name: m.name, offset: m.offsetBytes, size: m.sizeBytes })));
  });
});

describe('from_netdev: traffic from the network to a frontend', () => {
  it('a SYN to <node address>:<nodePort> is rewritten to a backend, with valid checksums', () => {
    const { retval, out, events } = run('from_netdev', toNodePort(40001));
    expect(retval).toBe(TC_ACT_OK);
    const seen = tuple(out);
    expect(backendAddresses).toContain(seen.daddr);
    expect(seen).toMatchObject({ saddr: CLIENT, sport: 40001, dport: 8080 });
    expect(checksumsValid(out)).toEqual({ ip: true, l4: true });
    expect(events).toEqual([]);
  });

  it('an ExternalIP frontend is translated to its backend', () => {
    const { out } = run('from_netdev', { saddr: CLIENT, daddr: EXTERNAL_IP, proto: IpProto.TCP, sport: 40002, dport: 80, tcpFlags: TcpFlag.SYN });
    expect(tuple(out)).toEqual({ saddr: CLIENT, daddr: BACKENDS[1].address, sport: 40002, dport: 8080 });
    expect(checksumsValid(out)).toEqual({ ip: true, l4: true });
  });

  it('a UDP datagram to a UDP node port is translated with a valid checksum', () => {
    const { out } = run('from_netdev', { saddr: CLIENT, daddr: NODE_IP, proto: IpProto.UDP, sport: 5000, dport: 53, payload: Buffer.from('query') });
    expect(tuple(out)).toEqual({ saddr: CLIENT, daddr: BACKENDS[0].address, sport: 5000, dport: 8080 });
    expect(checksumsValid(out)).toEqual({ ip: true, l4: true });
  });

  it('a connection keeps its backend while the service changes its slots', () => {
    const first = tuple(run('from_netdev', toNodePort(40003)).out).daddr;
    // Every slot now names one other backend: a new choice could not pick the first.
    const other = BACKENDS.find((b) => b.address !== first)!;
    program('0.0.0.0', NODE_PORT, [other.id, other.id, other.id], 7, 'NodePort');
    for (const f of [TcpFlag.ACK, TcpFlag.ACK | TcpFlag.PSH, TcpFlag.FIN | TcpFlag.ACK]) {
      expect(tuple(run('from_netdev', toNodePort(40003, f)).out).daddr).toBe(first);
    }
    expect(tuple(run('from_netdev', toNodePort(40004)).out).daddr).toBe(other.address);
  });

  it('a connection whose backend is gone picks a new one', () => {
    const first = tuple(run('from_netdev', toNodePort(40005)).out).daddr;
    const gone = BACKENDS.find((b) => b.address === first)!;
    services.backends.delete(gone.id);
    try {
      const rest = BACKENDS.filter((b) => b.id !== gone.id).map((b) => b.id);
      program('0.0.0.0', NODE_PORT, rest, 7, 'NodePort');
      expect(tuple(run('from_netdev', toNodePort(40005, TcpFlag.ACK)).out).daddr).not.toBe(first);
    } finally {
      services.backends.set(gone.id, { address: gone.address, port: gone.port, protocol: 'TCP', state: 'active' });
    }
  });

  it('a frontend without backends drops the packet with SERVICE_BACKEND_NOT_FOUND and a drop event', () => {
    const { retval, events } = run('from_netdev', toNodePort(40006, TcpFlag.SYN, EMPTY_NODE_PORT));
    expect(retval).toBe(TC_ACT_SHOT);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: EventType.DROP, subType: DropReason.SERVICE_BACKEND_NOT_FOUND, dropReason: DropReason.SERVICE_BACKEND_NOT_FOUND,
      verdict: Verdict.DROPPED, obsPoint: ObsPoint.FROM_NETWORK, saddr: CLIENT, daddr: NODE_IP, sport: 40006, dport: EMPTY_NODE_PORT,
    });
    expect([...host.forward.keys()]).toEqual([]);
  });

  it('traffic to no frontend passes untouched', () => {
    const packets: PacketSpec[] = [
      toNodePort(40007, TcpFlag.SYN, 22),
      { saddr: CLIENT, daddr: '198.51.100.99', proto: IpProto.TCP, sport: 40008, dport: NODE_PORT, tcpFlags: TcpFlag.SYN },
      { saddr: CLIENT, daddr: NODE_IP, proto: IpProto.ICMP, icmpType: 8, icmpId: 9 },
    ];
    for (const spec of packets) {
      const input = withL4Checksum(spec);
      const { retval, out, events } = run('from_netdev', spec);
      expect(retval).toBe(TC_ACT_OK);
      expect(out.equals(input)).toBe(true);
      expect(events).toEqual([]);
    }
    expect([...host.forward.keys()]).toEqual([]);
  });

  it('ClientIP affinity sends every connection of a client to the same backend', () => {
    program('0.0.0.0', AFFINITY_NODE_PORT, [1, 2, 3], 11, 'NodePort', true);
    const chosen = new Set<string>();
    for (let sport = 41000; sport < 41020; sport++) chosen.add(tuple(run('from_netdev', toNodePort(sport, TcpFlag.SYN, AFFINITY_NODE_PORT)).out).daddr);
    expect(chosen.size).toBe(1);
  });
});

describe('from_netdev: Maglev backend choice', () => {
  const MAGLEV_NODE_PORT = 31600;
  const MAGLEV_REV_NAT = 12;
  const tableOf = (ids: readonly number[]): Uint32Array =>
    maglevTable(ids.map((id) => ({ id, key: `${BACKENDS[id - 1]!.address}:8080/TCP` })), { size: DEFAULT_MAGLEV_TABLE_SIZE });
  const addressOf = (id: number): string => BACKENDS[id - 1]!.address;
  /** The backend table[hash % M] names for a SYN from CLIENT:sport, computed in TypeScript. */
  const expected = (table: Uint32Array, sport: number): string =>
    addressOf(table[maglevFlowHash({ saddr: CLIENT, sport, dport: MAGLEV_NODE_PORT, proto: IpProto.TCP }) % table.length]!);
  const connect = (sport: number, tcpFlags: number = TcpFlag.SYN): string =>
    tuple(run('from_netdev', toNodePort(sport, tcpFlags, MAGLEV_NODE_PORT)).out).daddr;
  const sports = Array.from({ length: 40 }, (_, i) => 42000 + i * 37);

  /** A NodePort service with a Maglev table of these backends (slots hold the same backends). */
  function programMaglev(ids: readonly number[], affinity = false): Uint32Array {
    const table = tableOf(ids);
    services.setMaglevTable(MAGLEV_REV_NAT, table);
    program('0.0.0.0', MAGLEV_NODE_PORT, ids, MAGLEV_REV_NAT, 'NodePort', affinity, 'TCP', true);
    return table;
  }

  it('sends a new connection to table[hash % M], the hash computed the same way in TypeScript', () => {
    const table = programMaglev([1, 2, 3]);
    expect(services.maglevTable(MAGLEV_REV_NAT)).toEqual(table);
    const chosen = sports.map((sport) => connect(sport));
    expect(chosen).toEqual(sports.map((sport) => expected(table, sport)));
    expect(new Set(chosen).size).toBe(3);
  });

  it('keeps every flow whose slot still names its backend when a backend goes and the table is rebuilt', () => {
    const before = programMaglev([1, 2, 3]);
    const first = sports.map((sport) => connect(sport));
    const after = programMaglev([1, 2]);
    // New connections with the same 5-tuples: only the table decides.
    clearConnections();
    const second = sports.map((sport) => connect(sport));
    expect(second).toEqual(sports.map((sport) => expected(after, sport)));
    sports.forEach((sport, i) => {
      const slot = maglevFlowHash({ saddr: CLIENT, sport, dport: MAGLEV_NODE_PORT, proto: IpProto.TCP }) % before.length;
      if (first[i] === addressOf(3)) expect(second[i]).not.toBe(addressOf(3));
      else if (after[slot] === before[slot]) expect(second[i]).toBe(first[i]);
    });
    const kept = sports.filter((_, i) => first[i] !== addressOf(3) && second[i] === first[i]).length;
    const survivors = first.filter((address) => address !== addressOf(3)).length;
    // Maglev moves about 1% of the other slots; 40 flows keep nearly all.
    expect(kept / survivors).toBeGreaterThanOrEqual(0.9);
  });

  it('an established connection keeps its backend whatever the table says now', () => {
    programMaglev([1, 2, 3]);
    const first = connect(43001);
    const other = BACKENDS.find((b) => b.address !== first)!;
    programMaglev([other.id]);
    expect(connect(43001, TcpFlag.ACK)).toBe(first);
    expect(connect(43002)).toBe(other.address);
  });

  it('ClientIP affinity wins over the table', () => {
    programMaglev([1, 2, 3], true);
    expect(new Set(sports.map((sport) => connect(sport))).size).toBe(1);
  });

  it('without a table (flag set, table missing) falls back to a slot', () => {
    program('0.0.0.0', MAGLEV_NODE_PORT, [2], MAGLEV_REV_NAT, 'NodePort', false, 'TCP', true);
    expect(connect(43003)).toBe(addressOf(2));
  });
});

describe('to_netdev: replies leaving through the uplink', () => {
  it('a backend reply gets the frontend as source again, with valid checksums', () => {
    const backend = tuple(run('from_netdev', toNodePort(40010)).out).daddr;
    const { retval, out } = run('to_netdev', { saddr: backend, daddr: CLIENT, proto: IpProto.TCP, sport: 8080, dport: 40010, tcpFlags: TcpFlag.SYN | TcpFlag.ACK });
    expect(retval).toBe(TC_ACT_OK);
    expect(tuple(out)).toEqual({ saddr: NODE_IP, daddr: CLIENT, sport: NODE_PORT, dport: 40010 });
    expect(checksumsValid(out)).toEqual({ ip: true, l4: true });
  });

  it('other traffic from the node passes untouched', () => {
    run('from_netdev', toNodePort(40011));
    const spec: PacketSpec = { saddr: BACKENDS[0].address, daddr: CLIENT, proto: IpProto.TCP, sport: 8080, dport: 40999, tcpFlags: TcpFlag.ACK };
    const { retval, out } = run('to_netdev', spec);
    expect(retval).toBe(TC_ACT_OK);
    expect(out.equals(withL4Checksum(spec))).toBe(true);
  });
});

describe('ifindexOf', () => {
  it("names an interface of this process's network namespace, and refuses others clearly", () => {
    expect(ifindexOf('lo')).toBe(1);
    expect(() => ifindexOf('tycho-none0')).toThrow(/no interface 'tycho-none0' in this network namespace \(if_nametoindex\(tycho-none0\): /);
    expect(() => ifindexOf('bad name!')).toThrow(/'bad name!' is not an interface name/);
  });
});
