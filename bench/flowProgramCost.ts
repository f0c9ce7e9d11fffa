// ns per packet of from_container on the established path (a TCP ACK of a
// connection already in conntrack), against the empty tc program, both run
// in the kernel with BPF_PROG_TEST_RUN. No pins, no interfaces: both objects'
// maps are private to this process.
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
  ctKeyCodec,
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
  summary: 'ns/packet of from_container on an established TCP ACK vs the empty tc program (BPF_PROG_TEST_RUN)',
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
    testRun(fromContainer, ack);

    const counters = lxc.perCpuMap('tycho_counters', u32Codec, u64Codec);
    const total = (slot: number): number => (counters.get(slot) ?? []).reduce((a, b) => a + b, 0);
    const connections = [...lxc.map('tycho_ct', ctKeyCodec, ctEntryCodec).keys()].length;
    const eventsBefore = total(Counter.EVENTS);
    const packetsBefore = total(Counter.PACKETS);
    testRun(fromContainer, ack, { repeat: 1000 });
    const checks = [
      check(connections === 1, 'conntrack holds the one connection', `${connections} entries`),
      check(total(Counter.EVENTS) === eventsBefore, 'established ACKs emit no event', `${total(Counter.EVENTS) - eventsBefore} events for 1000 ACKs`),
      check(total(Counter.PACKETS) - packetsBefore === 1000, 'from_container counted every test packet', `${total(Counter.PACKETS) - packetsBefore} of 1000`),
    ];

    nsPerPacket(emptyProgram, ack);
    nsPerPacket(fromContainer, ack); // warm-up
    const flowRounds: number[] = [];
    const emptyRounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      emptyRounds.push(nsPerPacket(emptyProgram, ack));
      flowRounds.push(nsPerPacket(fromContainer, ack));
      log(`round ${round + 1}/${ROUNDS}: empty ${emptyRounds.at(-1)!.toFixed(1)} ns, from_container ${flowRounds.at(-1)!.toFixed(1)} ns`);
    }
    const measured = measurement('from_container, established TCP ACK', 'ns/packet', flowRounds);
    const baseline = measurement('bench_empty (TC_ACT_OK)', 'ns/packet', emptyRounds);
    return { name: this.name, measured, baseline, ratio: pairedRatio(measured.rounds, baseline.rounds), checks };
  },
};
