// Policy enforcement in bpf_lxc.o's from_container / to_container, run on
// synthetic packets with BPF_PROG_TEST_RUN (skb->ifindex 1, as in
// endpointPrograms.test.ts). Keys come from @tycho/policy's policyMapKeys,
// so these tests also prove the compiled keys and the datapath's two-step
// lookup agree with `decide`.
import { randomBytes } from 'node:crypto';
import { decide, policyMapKeys, type DirectionPolicy, type EndpointPolicy, type PolicyEntry, type PolicyRef } from '@tycho/policy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { BpfObject } from './bpfObject.ts';
import { ctEntryCodec, ctKey4Codec, endpointInfoCodec, u32Codec, type FlowEvent } from './codecs.ts';
import { DropReason, EventType, IpProto, ObsPoint, PolicyMatchType, TcpFlag, TraceReason, Verdict, VerdictDirection } from './constants.ts';
import { DEFAULT_CONFIG, DEFAULT_OBJECT_PATH, NodeDatapath } from './nodeDatapath.ts';
import { buildPacket, type PacketSpec } from './packetBuilder.ts';
import { PolicyMaps } from './policyMaps.ts';
import { testRun } from './testRun.ts';

const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const TEST_IFINDEX = 1;
const ENDPOINT = { endpointId: 42, identity: 4242, flags: 0 };
const POD = '10.244.0.7';
const PEER = '10.244.1.9';
const PEER_IDENTITY = 5001;
const OTHER = '10.244.1.20';
const OTHER_IDENTITY = 5002;
const WORLD_HOST = '192.0.2.11';
const WORLD = 2;
const CIDR_IDENTITY = 16777217;

const ALLOW_POLICY: PolicyRef = { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'allow' };
const DENY_POLICY: PolicyRef = { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'deny' };

const pinDir = `/sys/fs/bpf/tycho-test-${randomBytes(4).toString('hex')}`;
let datapath: NodeDatapath;
let programs: BpfObject;
let maps: PolicyMaps;
let received: FlowEvent[] = [];

beforeAll(() => {
  datapath = NodeDatapath.open({ pinDir });
  datapath.onEvents((batch) => received.push(...batch));
  programs = BpfObject.open(DEFAULT_OBJECT_PATH, { pinRoot: pinDir });
  programs.map('tycho_endpoints', u32Codec, endpointInfoCodec).set(TEST_IFINDEX, ENDPOINT);
  maps = PolicyMaps.open(pinDir);
  maps.ipcache.set({ address: POD, prefixLen: 32 }, { identity: ENDPOINT.identity, local: true });
  maps.ipcache.set({ address: PEER, prefixLen: 32 }, { identity: PEER_IDENTITY, local: false });
  maps.ipcache.set({ address: OTHER, prefixLen: 32 }, { identity: OTHER_IDENTITY, local: false });
});

afterAll(() => {
  maps?.close();
  datapath?.close();
  programs?.close();
  NodeDatapath.removePins(pinDir);
});

beforeEach(() => {
  const conntrack = programs.map('tycho_ct4', ctKey4Codec, ctEntryCodec);
  for (const key of [...conntrack.keys()]) conntrack.delete(key);
  for (const key of [...maps.policy.keys()]) maps.policy.delete(key);
  for (const key of [...maps.endpoints.keys()]) maps.endpoints.delete(key);
  datapath.setConfig(DEFAULT_CONFIG);
  datapath.drainEvents();
  received = [];
});

const allowEntry = (identity: number, protocol: number, port: number, endPort = port): PolicyEntry => ({
  identity, protocol, port, endPort, deny: false, policies: [ALLOW_POLICY],
});
const denyEntry = (identity: number, protocol: number, port: number): PolicyEntry => ({
  identity, protocol, port, endPort: port, deny: true, policies: [DENY_POLICY],
});
const direction = (enforced: boolean, entries: PolicyEntry[] = []): DirectionPolicy => ({
  enforced, enforcedBy: enforced ? [ALLOW_POLICY] : [], entries,
});
const notEnforced = direction(false);

/** Writes the endpoint's policy as the agent does: flags per direction, then policyMapKeys' keys. */
function install(policy: Omit<EndpointPolicy, 'endpointId' | 'identity' | 'selectedBy'>): EndpointPolicy {
  const endpoint: EndpointPolicy = { endpointId: ENDPOINT.endpointId, identity: ENDPOINT.identity, selectedBy: [ALLOW_POLICY], ...policy };
  for (const key of policyMapKeys(endpoint)) {
    maps.policy.set(
      { endpointId: endpoint.endpointId, direction: key.direction, identity: key.identity, protocol: key.protocol, port: key.port, prefixLen: key.prefixLen },
      { deny: key.deny, policyList: 1 },
    );
  }
  const needsLookup = (dp: DirectionPolicy) => dp.enforced || dp.entries.length > 0;
  maps.endpoints.set(endpoint.endpointId, {
    ingress: { enforced: endpoint.ingress.enforced, needsLookup: needsLookup(endpoint.ingress) },
    egress: { enforced: endpoint.egress.enforced, needsLookup: needsLookup(endpoint.egress) },
  });
  return endpoint;
}

type Program = 'from_container' | 'to_container';

/** Runs one packet; returns the program's verdict and the events it emitted. */
function run(program: Program, spec: PacketSpec): { retval: number; events: FlowEvent[] } {
  const { retval } = testRun(programs.programFd(program), buildPacket(spec).bytes, { repeat: 1 });
  received = [];
  datapath.drainEvents();
  return { retval, events: received };
}

const syn = (daddr: string, dport: number, proto: number = IpProto.TCP): PacketSpec => ({
  saddr: POD, daddr, proto, sport: 40000, dport, tcpFlags: proto === IpProto.TCP ? TcpFlag.SYN : 0,
});
const synIn = (saddr: string, dport: number): PacketSpec => ({ saddr, daddr: POD, proto: IpProto.TCP, sport: 40000, dport, tcpFlags: TcpFlag.SYN });

function conntrackSize(): number {
  return [...programs.map('tycho_ct4', ctKey4Codec, ctEntryCodec).keys()].length;
}

describe('egress policy at from_container', () => {
  it('an allowed SYN passes with a policy verdict, then a NEW trace event carrying both identities', () => {
    install({ ingress: notEnforced, egress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8080)]) });
    const { retval, events } = run('from_container', syn(PEER, 8080));
    expect(retval).toBe(TC_ACT_OK);
    expect(events.map((event) => event.type)).toEqual([EventType.POLICY_VERDICT, EventType.TRACE]);
    expect(events[1]).toMatchObject({
      type: EventType.TRACE, subType: TraceReason.NEW, verdict: Verdict.FORWARDED,
      srcIdentity: ENDPOINT.identity, dstIdentity: PEER_IDENTITY,
    });
  });

  it('default deny: a SYN no key allows is dropped with POLICY_DENIED, a drop event and no conntrack entry', () => {
    install({ ingress: notEnforced, egress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8080)]) });
    const { retval, events } = run('from_container', syn(OTHER, 8080));
    expect(retval).toBe(TC_ACT_SHOT);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: EventType.DROP, subType: DropReason.POLICY_DENIED, dropReason: DropReason.POLICY_DENIED, verdict: Verdict.DROPPED,
      obsPoint: ObsPoint.FROM_ENDPOINT, ifindex: TEST_IFINDEX, endpointId: ENDPOINT.endpointId,
      srcIdentity: ENDPOINT.identity, dstIdentity: OTHER_IDENTITY, isReply: false, tcpFlags: TcpFlag.SYN,
      saddr: POD, daddr: OTHER, sport: 40000, dport: 8080, proto: IpProto.TCP,
    });
    expect(conntrackSize()).toBe(0);
  });

  it('a denied SYN retransmitted after its rule arrives passes', () => {
    const first = install({ ingress: notEnforced, egress: direction(true) });
    expect(run('from_container', syn(PEER, 8080)).retval).toBe(TC_ACT_SHOT);
    install({ ...first, egress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8080)]) });
    expect(run('from_container', syn(PEER, 8080)).retval).toBe(TC_ACT_OK);
  });

  it('an address without an ipcache entry is world; a CIDR prefix gives its identity', () => {
    install({ ingress: notEnforced, egress: direction(true, [allowEntry(WORLD, IpProto.TCP, 443)]) });
    expect(run('from_container', syn(WORLD_HOST, 443)).retval).toBe(TC_ACT_OK);
    maps.ipcache.set({ address: '192.0.2.0', prefixLen: 24 }, { identity: CIDR_IDENTITY, local: false });
    try {
      const { retval, events } = run('from_container', { ...syn(WORLD_HOST, 443), sport: 40001 });
      expect(retval).toBe(TC_ACT_SHOT);
      expect(events[0]).toMatchObject({ dstIdentity: CIDR_IDENTITY });
    } finally {
      maps.ipcache.delete({ address: '192.0.2.0', prefixLen: 24 });
    }
  });
});

describe('wildcards', () => {
  it('an identity on any port: every TCP port of that peer passes, UDP does not', () => {
    install({ ingress: notEnforced, egress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 0)]) });
    expect(run('from_container', syn(PEER, 9999)).retval).toBe(TC_ACT_OK);
    expect(run('from_container', syn(PEER, 22)).retval).toBe(TC_ACT_OK);
    expect(run('from_container', syn(PEER, 53, IpProto.UDP)).retval).toBe(TC_ACT_SHOT);
  });

  it('any identity on one port: every peer passes on that port only', () => {
    install({ ingress: notEnforced, egress: direction(true, [allowEntry(0, IpProto.TCP, 8080)]) });
    expect(run('from_container', syn(PEER, 8080)).retval).toBe(TC_ACT_OK);
    expect(run('from_container', syn(WORLD_HOST, 8080)).retval).toBe(TC_ACT_OK);
    expect(run('from_container', syn(PEER, 8081)).retval).toBe(TC_ACT_SHOT);
  });

  it('a port range passes inside and drops outside', () => {
    install({ ingress: notEnforced, egress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8000, 8099)]) });
    expect(run('from_container', syn(PEER, 8000)).retval).toBe(TC_ACT_OK);
    expect(run('from_container', syn(PEER, 8099)).retval).toBe(TC_ACT_OK);
    expect(run('from_container', syn(PEER, 8100)).retval).toBe(TC_ACT_SHOT);
    expect(run('from_container', syn(PEER, 7999)).retval).toBe(TC_ACT_SHOT);
  });
});

describe('deny rules', () => {
  it('deny wins over allow: the drop says POLICY_DENY', () => {
    install({
      ingress: notEnforced,
      egress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8080), denyEntry(PEER_IDENTITY, 0, 0)]),
    });
    const { retval, events } = run('from_container', syn(PEER, 8080));
    expect(retval).toBe(TC_ACT_SHOT);
    expect(events[0]).toMatchObject({ type: EventType.DROP, dropReason: DropReason.POLICY_DENY, dstIdentity: PEER_IDENTITY });
  });

  it('a deny rule in a direction without default deny drops only what it names', () => {
    install({ ingress: notEnforced, egress: direction(false, [denyEntry(PEER_IDENTITY, IpProto.TCP, 22)]) });
    expect(run('from_container', syn(PEER, 22)).retval).toBe(TC_ACT_SHOT);
    expect(run('from_container', syn(PEER, 8080)).retval).toBe(TC_ACT_OK);
    expect(run('from_container', syn(OTHER, 22)).retval).toBe(TC_ACT_OK);
  });
});

describe('conntrack and directions', () => {
  it('the reply of an allowed connection passes an enforced ingress; a new connection from the peer does not', () => {
    install({ ingress: direction(true), egress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8080)]) });
    expect(run('from_container', syn(PEER, 8080)).retval).toBe(TC_ACT_OK);
    const reply = run('to_container', { saddr: PEER, daddr: POD, proto: IpProto.TCP, sport: 8080, dport: 40000, tcpFlags: TcpFlag.SYN | TcpFlag.ACK });
    expect(reply.retval).toBe(TC_ACT_OK);
    expect(reply.events[0]).toMatchObject({ isReply: true, srcIdentity: PEER_IDENTITY, dstIdentity: ENDPOINT.identity });
    const fresh = run('to_container', synIn(PEER, 8080));
    expect(fresh.retval).toBe(TC_ACT_SHOT);
    expect(fresh.events[0]).toMatchObject({
      type: EventType.DROP, dropReason: DropReason.POLICY_DENIED, obsPoint: ObsPoint.TO_ENDPOINT,
      srcIdentity: PEER_IDENTITY, dstIdentity: ENDPOINT.identity,
    });
  });

  it('a direction that is not enforced passes without a lookup', () => {
    install({ ingress: notEnforced, egress: direction(true) });
    const { retval, events } = run('to_container', synIn(PEER, 8080));
    expect(retval).toBe(TC_ACT_OK);
    expect(events[0]).toMatchObject({ type: EventType.TRACE, srcIdentity: 0, dstIdentity: ENDPOINT.identity });
  });

  it('an endpoint without policy state passes everything', () => {
    expect(run('from_container', syn(OTHER, 1)).retval).toBe(TC_ACT_OK);
  });

  it('ingress rules apply at to_container by the source identity', () => {
    install({ ingress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8080)]), egress: notEnforced });
    expect(run('to_container', synIn(PEER, 8080)).retval).toBe(TC_ACT_OK);
    expect(run('to_container', synIn(OTHER, 8080)).retval).toBe(TC_ACT_SHOT);
  });
});

describe('the datapath agrees with decide', () => {
  it('over a grid of identities, protocols and ports', () => {
    const endpoint = install({
      ingress: notEnforced,
      egress: direction(true, [
        allowEntry(PEER_IDENTITY, IpProto.TCP, 8000, 8099),
        allowEntry(0, IpProto.UDP, 53),
        allowEntry(OTHER_IDENTITY, 0, 0),
        denyEntry(PEER_IDENTITY, IpProto.TCP, 8080),
        denyEntry(0, IpProto.TCP, 22),
      ]),
    });
    const peers = [[PEER, PEER_IDENTITY], [OTHER, OTHER_IDENTITY], [WORLD_HOST, WORLD]] as const;
    let sport = 41000;
    for (const [address, identity] of peers) {
      for (const protocol of [IpProto.TCP, IpProto.UDP]) {
        for (const port of [22, 53, 7999, 8000, 8080, 8099, 8100]) {
          const expected = decide(endpoint, 'egress', identity, port, protocol).verdict;
          const { retval, events } = run('from_container', { ...syn(address, port, protocol), sport: sport++ });
          const seen = retval === TC_ACT_OK ? 'allowed' : events[0]?.dropReason === DropReason.POLICY_DENY ? 'denied-by-deny-rule' : 'denied';
          expect(seen, `${address} ${protocol}/${port}`).toBe(expected);
        }
      }
    }
  });
});

describe('policy-verdict events', () => {
  const verdicts = (events: FlowEvent[]) => events.filter((event) => event.type === EventType.POLICY_VERDICT);

  it('an allowed new connection raises exactly one, with direction, match type, identities and port', () => {
    install({ ingress: notEnforced, egress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8080)]) });
    const { events } = run('from_container', syn(PEER, 8080));
    expect(verdicts(events)).toHaveLength(1);
    expect(verdicts(events)[0]).toMatchObject({
      subType: VerdictDirection.EGRESS, policyMatch: PolicyMatchType.L3_L4, verdict: Verdict.FORWARDED,
      obsPoint: ObsPoint.FROM_ENDPOINT, endpointId: ENDPOINT.endpointId, isReply: false, dropReason: 0,
      srcIdentity: ENDPOINT.identity, dstIdentity: PEER_IDENTITY, saddr: POD, daddr: PEER, dport: 8080, proto: IpProto.TCP,
      packetsFwd: 0, bytesFwd: 0,
    });
  });

  it('ingress: the verdict says INGRESS with the source as the remote identity', () => {
    install({ ingress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8080)]), egress: notEnforced });
    const { events } = run('to_container', synIn(PEER, 8080));
    expect(verdicts(events)).toHaveLength(1);
    expect(verdicts(events)[0]).toMatchObject({
      subType: VerdictDirection.INGRESS, policyMatch: PolicyMatchType.L3_L4, obsPoint: ObsPoint.TO_ENDPOINT,
      srcIdentity: PEER_IDENTITY, dstIdentity: ENDPOINT.identity,
    });
  });

  it.each([
    ['the identity on any port', allowEntry(PEER_IDENTITY, 0, 0), PolicyMatchType.L3_ONLY],
    ['the identity on one protocol, any port', allowEntry(PEER_IDENTITY, IpProto.TCP, 0), PolicyMatchType.L3_L4],
    ['the identity on a port range', allowEntry(PEER_IDENTITY, IpProto.TCP, 8000, 8099), PolicyMatchType.L3_L4],
    ['any identity on one port', allowEntry(0, IpProto.TCP, 8080), PolicyMatchType.L4_ONLY],
    ['any identity on any port', allowEntry(0, 0, 0), PolicyMatchType.ALL],
  ] as const)('a key for %s matches as policy match type %i', (_name, entry, match) => {
    install({ ingress: notEnforced, egress: direction(true, [entry]) });
    const { retval, events } = run('from_container', syn(PEER, 8080));
    expect(retval).toBe(TC_ACT_OK);
    expect(verdicts(events).map((event) => event.policyMatch)).toEqual([match]);
  });

  it('the reply and the established packets of an allowed connection raise none', () => {
    install({ ingress: direction(true), egress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8080)]) });
    expect(verdicts(run('from_container', syn(PEER, 8080)).events)).toHaveLength(1);
    const later = [
      run('to_container', { saddr: PEER, daddr: POD, proto: IpProto.TCP, sport: 8080, dport: 40000, tcpFlags: TcpFlag.SYN | TcpFlag.ACK }),
      run('from_container', { ...syn(PEER, 8080), tcpFlags: TcpFlag.ACK }),
      run('from_container', { ...syn(PEER, 8080), tcpFlags: TcpFlag.ACK | TcpFlag.PSH, payload: new Uint8Array(64) }),
      run('to_container', { saddr: PEER, daddr: POD, proto: IpProto.TCP, sport: 8080, dport: 40000, tcpFlags: TcpFlag.ACK }),
    ];
    for (const { retval } of later) expect(retval).toBe(TC_ACT_OK);
    expect(later.flatMap(({ events }) => verdicts(events))).toEqual([]);
  });

  it('a denied connection raises its drop event and no verdict', () => {
    install({ ingress: notEnforced, egress: direction(true, [allowEntry(PEER_IDENTITY, IpProto.TCP, 8080)]) });
    const { events } = run('from_container', syn(OTHER, 8080));
    expect(events.map((event) => event.type)).toEqual([EventType.DROP]);
  });

  it('none for an endpoint without policy state, a direction without enforcement, or one with only deny rules', () => {
    expect(verdicts(run('from_container', syn(PEER, 8080)).events)).toEqual([]);
    install({ ingress: notEnforced, egress: direction(true) });
    expect(verdicts(run('to_container', synIn(PEER, 8080)).events)).toEqual([]);
    install({ ingress: notEnforced, egress: direction(false, [denyEntry(PEER_IDENTITY, IpProto.TCP, 22)]) });
    const allowed = run('from_container', { ...syn(PEER, 8080), sport: 40002 });
    expect(allowed.retval).toBe(TC_ACT_OK);
    expect(verdicts(allowed.events)).toEqual([]);
  });
});
