// Events/s the agent's decode path takes out of the real BPF ring buffer on
// one core: RingBufferReader delivers a batch, decodeFlowEventBatch turns it
// into FlowEvents, as NodeDatapath.onEvents does for the agent. Baseline in
// the same run: the same drain, the records walked and one word of each read,
// nothing decoded. bench_ringbuf.o fills the ring between drains (not timed).
import { fileURLToPath } from 'node:url';
import { BpfObject, RingBufferReader, decodeFlowEventBatch, forEachRecord, layouts, testRun, u32Codec, u64Codec } from '@tycho/datapath';
import { check, measurement, pairedRatio, type Benchmark } from './benchmark.ts';

const PRODUCER_OBJECT_PATH = fileURLToPath(new URL('../bpf/build/bench_ringbuf.o', import.meta.url));
/** Events per fill: the 8 MiB ring holds ~69,900 events of 112 bytes (+8 bytes of header each). */
const EVENTS_PER_FILL = 50_000;
const FILLS_PER_ROUND = 40;
const ROUNDS = 5;
const EVENTS_PER_ROUND = EVENTS_PER_FILL * FILLS_PER_ROUND;

type Consumer = (batch: Buffer) => number;

/** The agent's path: one FlowEvent per record. */
const decode: Consumer = (batch) => decodeFlowEventBatch(batch).length;

/** The baseline: every record visited, its first word read. */
let sink = 0;
const touch: Consumer = (batch) => {
  let records = 0;
  forEachRecord(batch, (offset) => {
    sink ^= batch.readUInt32LE(offset);
    records++;
  });
  return records;
};

export const ringbufDecode: Benchmark = {
  name: 'ringbufDecode',
  summary: 'events/s drained from the BPF ring buffer and decoded (agent path) vs drained and touched raw',
  async run({ log, defer }) {
    const producer = BpfObject.open(PRODUCER_OBJECT_PATH);
    defer(() => producer.close());
    producer.map('tycho_bench_config', u32Codec, u32Codec).set(0, EVENTS_PER_FILL);
    const lostMap = producer.map('tycho_bench_lost', u32Codec, u64Codec);
    const produce = producer.programFd('bench_ringbuf_produce');
    const probe = Buffer.alloc(64);

    let consumer: Consumer = touch;
    let delivered = 0;
    let batches = 0;
    let exactRounds = 0;
    const reader = new RingBufferReader(producer.mapInfo('tycho_events').fd, (batch) => {
      delivered += consumer(batch);
      batches++;
    });
    defer(() => reader.close());

    /** Fills and drains FILLS_PER_ROUND times; returns events/s over the drains alone. */
    const runRound = (withConsumer: Consumer): number => {
      consumer = withConsumer;
      delivered = 0;
      let drainNs = 0;
      for (let fill = 0; fill < FILLS_PER_ROUND; fill++) {
        testRun(produce, probe);
        const start = process.hrtime.bigint();
        reader.drain();
        drainNs += Number(process.hrtime.bigint() - start);
      }
      if (delivered !== EVENTS_PER_ROUND) throw new Error(`round delivered ${delivered} events, expected ${EVENTS_PER_ROUND}`);
      exactRounds++;
      return EVENTS_PER_ROUND / (drainNs / 1e9);
    };

    runRound(touch);
    runRound(decode); // warm-up: JIT and ring pages
    const decodeRounds: number[] = [];
    const touchRounds: number[] = [];
    batches = 0;
    exactRounds = 0;
    for (let round = 0; round < ROUNDS; round++) {
      touchRounds.push(runRound(touch));
      decodeRounds.push(runRound(decode));
      log(`round ${round + 1}/${ROUNDS}: raw ${Math.round(touchRounds.at(-1)!).toLocaleString('en-US')} ev/s, decoded ${Math.round(decodeRounds.at(-1)!).toLocaleString('en-US')} ev/s`);
    }

    const lost = lostMap.get(0) ?? 0;
    const total = 2 * ROUNDS * EVENTS_PER_ROUND;
    const checks = [
      check(lost === 0, 'the producer lost no event (ring never full)', `${lost} lost`),
      check(exactRounds === 2 * ROUNDS, 'every round delivered exactly the events produced', `${exactRounds} rounds of ${EVENTS_PER_ROUND.toLocaleString('en-US')}, ${total.toLocaleString('en-US')} events measured`),
      check(layouts.flowEvent.size === 112, 'events are struct tycho_flow_event', `${layouts.flowEvent.size} bytes`),
      `${batches} batches over ${2 * ROUNDS * FILLS_PER_ROUND} drains`,
    ];
    const measured = measurement('decodeFlowEventBatch', 'events/s', decodeRounds);
    const baseline = measurement('drain, records touched raw', 'events/s', touchRounds);
    return { name: this.name, measured, baseline, ratio: pairedRatio(measured.rounds, baseline.rounds), goal: { kind: 'valueAtLeast', min: 1_000_000 }, checks };
  },
};
