// ns per packet of from_container on the path that looks policy up, with the
// node's policy map holding 1,000 and 10,000 keys of other identities against
// none, all in the kernel with BPF_PROG_TEST_RUN. Only a packet that opens a
// connection is looked up, and a test run repeats one packet, so the packet is
// a SYN that the endpoint's default deny drops (egress enforced, no key
// matches): a denied packet leaves no conntrack entry,
// and every repetition takes the whole new-connection path (conntrack miss
// and create, ipcache and policy lookups, entry removed, drop event). The
// event ring fills during warm-up, so every round pays the same for it. No
// pins, no interfaces: the object's maps are private to this process.
import {
  BpfObject,
  DEFAULT_CONFIG,
  DEFAULT_OBJECT_PATH,
  IpProto,
  PolicyMaps,
  TcpFlag,
  buildPacket,
  configCodec,
  ctKey4Codec,
  ctEntryCodec,
  endpointInfoCodec,
  testRun,
  u32Codec,
  type PolicyKey,
} from '@tycho/datapath';
import { check, measurement, pairedRatio, type Benchmark } from './benchmark.ts';

const REPEAT = 200_000;
const ROUNDS = 7;
const TEST_IFINDEX = 1;
const TC_ACT_SHOT = 2;
const ENDPOINT_ID = 1;
const PEER_IDENTITY = 5001;
const RULE_COUNTS = [1_000, 10_000] as const;

function nsPerPacket(progFd: number, packet: Buffer): number {
  const start = process.hrtime.bigint();
  const { retval } = testRun(progFd, packet, { repeat: REPEAT });
  const elapsed = Number(process.hrtime.bigint() - start);
  if (retval !== TC_ACT_SHOT) throw new Error(`test run returned ${retval}, expected TC_ACT_SHOT (denied by policy)`);
  return elapsed / REPEAT;
}

/** Keys of other identities, the shapes policyMapKeys makes: one port, a port range, one protocol. */
function otherKeys(count: number): PolicyKey[] {
  return Array.from({ length: count }, (_, i) => {
    const shape = i % 3;
    return {
      endpointId: ENDPOINT_ID,
      direction: 'egress' as const,
      identity: 10_000 + i,
      protocol: IpProto.TCP,
      port: shape === 0 ? 8080 : shape === 1 ? 8000 : 0,
      prefixLen: shape === 0 ? 24 : shape === 1 ? 20 : 8,
    };
  });
}

export const policyLookupCost: Benchmark = {
  name: 'policyLookupCost',
  summary: 'ns/packet of from_container on a policy-denied SYN with 1,000 and 10,000 policy keys vs none (BPF_PROG_TEST_RUN)',
  async run({ log, defer }) {
    const lxc = BpfObject.open(DEFAULT_OBJECT_PATH);
    defer(() => lxc.close());
    lxc.map('tycho_config', u32Codec, configCodec).set(0, { ...DEFAULT_CONFIG, l7Ports: [...DEFAULT_CONFIG.l7Ports] });
    lxc.map('tycho_endpoints', u32Codec, endpointInfoCodec).set(TEST_IFINDEX, { endpointId: ENDPOINT_ID, identity: 4242, flags: 0 });
    const maps = PolicyMaps.fromObject(lxc);
    maps.ipcache.set({ address: '10.244.0.9', prefixLen: 32 }, { identity: PEER_IDENTITY, local: false });
    maps.endpoints.set(ENDPOINT_ID, { ingress: { enforced: false, needsLookup: false }, egress: { enforced: true, needsLookup: true } });
    const fromContainer = lxc.programFd('from_container');
    const syn = buildPacket({ saddr: '10.244.0.7', daddr: '10.244.0.9', proto: IpProto.TCP, sport: 40000, dport: 8080, tcpFlags: TcpFlag.SYN }).bytes;

    // One object per rule count would load the program three times; instead
    // the keys are added between the measurements of each round.
    const extra = otherKeys(Math.max(...RULE_COUNTS));
    const setRuleCount = (count: number) => {
      const current = [...maps.policy.keys()].length;
      for (let i = current; i < count; i++) maps.policy.set(extra[i]!, { deny: false, policyList: 2 });
      for (let i = current - 1; i >= count; i--) maps.policy.delete(extra[i]!);
    };

    nsPerPacket(fromContainer, syn); // warm-up; fills the event ring
    const baselineRounds: number[] = [];
    const rounds = new Map<number, number[]>(RULE_COUNTS.map((n) => [n, []]));
    for (let round = 0; round < ROUNDS; round++) {
      setRuleCount(0);
      baselineRounds.push(nsPerPacket(fromContainer, syn));
      for (const count of RULE_COUNTS) {
        setRuleCount(count);
        rounds.get(count)!.push(nsPerPacket(fromContainer, syn));
      }
      log(`round ${round + 1}/${ROUNDS}: no keys ${baselineRounds.at(-1)!.toFixed(1)} ns, ${RULE_COUNTS.map((n) => `${n} keys ${rounds.get(n)!.at(-1)!.toFixed(1)} ns`).join(', ')}`);
    }
    const keysNow = [...maps.policy.keys()].length;
    const conntrackLeft = [...lxc.map('tycho_ct4', ctKey4Codec, ctEntryCodec).keys()].length;
    const checks = [
      check(keysNow === Math.max(...RULE_COUNTS), 'the policy map held the largest rule count at the end', `${keysNow} keys`),
      check(conntrackLeft === 0, 'denied SYNs left no conntrack entry (every repetition was a new connection)', `${conntrackLeft} entries`),
    ];
    const baseline = measurement('from_container, denied SYN, no policy keys', 'ns/packet', baselineRounds);
    const [small, large] = RULE_COUNTS.map((n) => measurement(`from_container, denied SYN, ${n.toLocaleString('en-US')} keys`, 'ns/packet', rounds.get(n)!));
    return {
      name: this.name,
      measured: large!,
      baseline,
      ratio: pairedRatio(large!.rounds, baseline.rounds),
      variants: [{ measured: small!, ratio: pairedRatio(small!.rounds, baseline.rounds) }],
      checks,
    };
  },
};
