// ns per packet of the flow programs on the established path, against the
// empty tc program, all run in the kernel with BPF_PROG_TEST_RUN: from_container
// on a TCP ACK of a connection already in conntrack (the original direction),
// and to_container on the peer's ACK (the reply direction). No pins, no
// interfaces: the objects' maps are private to this process.
import { fileURLToPath } from 'node:url';
import {
  BpfObject,
  Counter,
  DEFAULT_CONFIG,
  DEFAULT_OBJECT_PATH,
  IpProto,
  TcpFlag,
  buildPacket,
  configCodec,
  ctKey4Codec,
  ctEntryCodec,
  endpointInfoCodec,
  testRun,
  u32Codec,
  u64Codec,
  type PacketSpec,
} from '@tycho/datapath';
import { check, measurement, pairedRatio, type Benchmark } from './benchmark.ts';

const EMPTY_OBJECT_PATH = fileURLToPath(new URL('../bpf/build/bench_empty.o', import.meta.url));
const REPEAT = 2_000_000;
const ROUNDS = 7;
/** Test runs see skb->ifindex 1 (loopback); the endpoint is registered there. */
const TEST_IFINDEX = 1;
const TC_ACT_OK = 0;

const pod: Omit<PacketSpec, 'tcpFlags'> = { saddr: '10.244.0.7', daddr: '10.244.0.9', proto: IpProto.TCP, sport: 40000, dport: 5001 };
const peer: Omit<PacketSpec, 'tcpFlags'> = { saddr: pod.daddr, daddr: pod.saddr, proto: IpProto.TCP, sport: pod.dport!, dport: pod.sport! };

/** ns per run of the program, from the wall time of one test run of REPEAT packets (the kernel's own figure is whole ns). */
function nsPerPacket(progFd: number, packet: Buffer): number {
  const start = process.hrtime.bigint();
  const { retval } = testRun(progFd, packet, { repeat: REPEAT });
  const elapsed = Number(process.hrtime.bigint() - start);
  if (retval !== TC_ACT_OK) throw new Error(`test run returned ${retval}, expected TC_ACT_OK`);
  return elapsed / REPEAT;
}

export const flowProgramCost: Benchmark = {
  name: 'flowProgramCost',
  summary: 'ns/packet of from_container (and to_container, reply) on an established TCP ACK vs the empty tc program (BPF_PROG_TEST_RUN)',
  async run({ log, defer }) {
    const lxc = BpfObject.open(DEFAULT_OBJECT_PATH);
    defer(() => lxc.close());
    const empty = BpfObject.open(EMPTY_OBJECT_PATH);
    defer(() => empty.close());

    lxc.map('tycho_config', u32Codec, configCodec).set(0, { ...DEFAULT_CONFIG, l7Ports: [...DEFAULT_CONFIG.l7Ports] });
    lxc.map('tycho_endpoints', u32Codec, endpointInfoCodec).set(TEST_IFINDEX, { endpointId: 1, identity: 4242, flags: 0 });
    const fromContainer = lxc.programFd('from_container');
    const toContainer = lxc.programFd('to_container');
    const emptyProgram = empty.programFd('bench_empty');

    // Handshake, so the ACK below takes the established path.
    testRun(fromContainer, buildPacket({ ...pod, tcpFlags: TcpFlag.SYN }).bytes);
    testRun(toContainer, buildPacket({ ...peer, tcpFlags: TcpFlag.SYN | TcpFlag.ACK }).bytes);
    const ack = buildPacket({ ...pod, tcpFlags: TcpFlag.ACK }).bytes;
    const replyAck = buildPacket({ ...peer, tcpFlags: TcpFlag.ACK }).bytes;
    testRun(fromContainer, ack);
    testRun(toContainer, replyAck);

    const counters = lxc.perCpuMap('tycho_counters', u32Codec, u64Codec);
    const total = (slot: number): number => (counters.get(slot) ?? []).reduce((a, b) => a + b, 0);
    const conntrack = lxc.map('tycho_ct4', ctKey4Codec, ctEntryCodec);
    const connections = [...conntrack.entries()];
    const entry = () => connections.length === 1 ? conntrack.get(connections[0]![0]) : undefined;
    const eventsBefore = total(Counter.EVENTS);
    const packetsBefore = total(Counter.PACKETS);
    const fwdBefore = entry()?.packetsFwd ?? 0;
    const revBefore = entry()?.packetsRev ?? 0;
    testRun(fromContainer, ack, { repeat: 1000 });
    testRun(toContainer, replyAck, { repeat: 1000 });
    const fwd = (entry()?.packetsFwd ?? 0) - fwdBefore;
    const rev = (entry()?.packetsRev ?? 0) - revBefore;
    const checks = [
      check(connections.length === 1, 'conntrack holds the one connection', `${connections.length} entries`),
      check(total(Counter.EVENTS) === eventsBefore, 'established ACKs emit no event, either way', `${total(Counter.EVENTS) - eventsBefore} events for 2000 ACKs`),
      check(total(Counter.PACKETS) - packetsBefore === 2000, 'the programs counted every test packet', `${total(Counter.PACKETS) - packetsBefore} of 2000`),
      check(fwd === 1000 && rev === 1000, 'from_container ACKs count as original direction, to_container ACKs as replies', `${fwd} forward, ${rev} reply`),
    ];

    nsPerPacket(emptyProgram, ack);
    nsPerPacket(fromContainer, ack); // warm-up
    nsPerPacket(toContainer, replyAck);
    const forwardRounds: number[] = [];
    const replyRounds: number[] = [];
    const emptyRounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      emptyRounds.push(nsPerPacket(emptyProgram, ack));
      forwardRounds.push(nsPerPacket(fromContainer, ack));
      replyRounds.push(nsPerPacket(toContainer, replyAck));
      log(
        `round ${round + 1}/${ROUNDS}: empty ${emptyRounds.at(-1)!.toFixed(1)} ns, from_container ${forwardRounds.at(-1)!.toFixed(1)} ns, ` +
          `to_container (reply) ${replyRounds.at(-1)!.toFixed(1)} ns`,
      );
    }
    const measured = measurement('from_container, established TCP ACK', 'ns/packet', forwardRounds);
    const reply = measurement('to_container, established reply ACK', 'ns/packet', replyRounds);
    const baseline = measurement('bench_empty (TC_ACT_OK)', 'ns/packet', emptyRounds);
    return {
      name: this.name,
      measured,
      baseline,
      ratio: pairedRatio(measured.rounds, baseline.rounds),
      variants: [{ measured: reply, ratio: pairedRatio(reply.rounds, baseline.rounds) }],
      checks,
    };
  },
};
