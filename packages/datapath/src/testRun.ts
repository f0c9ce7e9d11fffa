// BPF_PROG_TEST_RUN: runs a loaded program on a packet inside the kernel.
import { addon } from './addon.ts';

/** The settable fields of struct __sk_buff for a tc program's test run. */
export interface SkBuffContext {
  mark?: number;
  priority?: number;
  /** Must name an existing interface; the kernel defaults to loopback (1). */
  ifindex?: number;
  ingressIfindex?: number;
}

// Offsets in struct __sk_buff (linux/bpf.h); the context passed stops after ifindex.
const SKB_MARK = 8;
const SKB_PRIORITY = 32;
const SKB_INGRESS_IFINDEX = 36;
const SKB_IFINDEX = 40;
const SKB_CONTEXT_BYTES = 44;

export function encodeSkBuffContext(ctx: SkBuffContext): Buffer {
  const bytes = Buffer.alloc(SKB_CONTEXT_BYTES);
  bytes.writeUInt32LE(ctx.mark ?? 0, SKB_MARK);
  bytes.writeUInt32LE(ctx.priority ?? 0, SKB_PRIORITY);
  bytes.writeUInt32LE(ctx.ingressIfindex ?? 0, SKB_INGRESS_IFINDEX);
  bytes.writeUInt32LE(ctx.ifindex ?? 0, SKB_IFINDEX);
  return bytes;
}

export interface TestRunOptions {
  /** Runs of the program on the same input; durationNs is their average. */
  repeat?: number;
  skb?: SkBuffContext;
}

export interface TestRunResult {
  retval: number;
  durationNs: number;
  dataOut: Buffer;
}

/** Runs the program once (or `repeat` times) on `data`, a packet from its Ethernet header. */
export function testRun(progFd: number, data: Uint8Array, options: TestRunOptions = {}): TestRunResult {
  const ctx = options.skb ? encodeSkBuffContext(options.skb) : undefined;
  const input = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const { retval, durationNs, dataOut } = addon.testRun(progFd, input, options.repeat ?? 1, ctx);
  return { retval, durationNs, dataOut };
}
