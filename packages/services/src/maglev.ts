import { createHash } from 'node:crypto';

/** Table sizes Cilium accepts for `maglev.tableSize` (all prime). */
export const MAGLEV_TABLE_SIZES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;
/** Cilium's default table size M (good for about 160 backends per service). */
export const DEFAULT_MAGLEV_TABLE_SIZE = 16381;

/** A backend as Maglev sees it: the id written into the table and the key its permutation is hashed from. */
export interface MaglevBackend {
  readonly id: number;
  /** Hashed into the backend's permutation: use what identifies it on every node, e.g. `10.244.1.12:8080/TCP`. */
  readonly key: string;
  /** Relative share of slots (default 1); 0 keeps the backend out of the table. */
  readonly weight?: number;
}

export interface MaglevOptions {
  /** A prime table size M (default 16381). */
  readonly size?: number;
  /** Mixed into both hashes; every node must use the same one (Cilium's `maglev.hashSeed`). */
  readonly seed?: string;
}

function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** The two hashes of the Maglev paper: where a backend's permutation starts (offset) and its stride (skip). */
export function maglevPermutationParams(key: string, size: number, seed = ''): { offset: number; skip: number } {
  const digest = createHash('sha256').update(seed).update('\0').update(key).digest();
  return { offset: digest.readUInt32BE(0) % size, skip: (digest.readUInt32BE(4) % (size - 1)) + 1 };
}

/**
 * The Maglev lookup table (Eisenbud et al., NSDI 2016): each backend walks its
 * own permutation of the M slots (offset + j·skip mod M) and, in turns, takes
 * the next slot still free, until every slot is taken. Weighted: per round a
 * backend takes weight/maxWeight turns (carried over as integer credit), so
 * equal weights give each backend ⌊M/N⌋ or ⌈M/N⌉ slots. Backends are taken
 * in key order, so the table does not depend on the input order, and a
 * backend's slots barely move when others come or go. Entry = backend id;
 * with no backend (or all weights 0) every entry is 0.
 */
export function maglevTable(backends: readonly MaglevBackend[], options: MaglevOptions = {}): Uint32Array {
  const size = options.size ?? DEFAULT_MAGLEV_TABLE_SIZE;
  if (!isPrime(size)) throw new Error(`maglev: table size ${size} is not a prime (Cilium's sizes: ${MAGLEV_TABLE_SIZES.join(', ')})`);
  const keys = new Set<string>();
  for (const backend of backends) {
    const weight = backend.weight ?? 1;
    if (!Number.isInteger(weight) || weight < 0) throw new Error(`maglev: backend ${backend.key}: weight ${weight} is not a whole number >= 0`);
    if (keys.has(backend.key)) throw new Error(`maglev: backend ${backend.key} is listed twice`);
    keys.add(backend.key);
  }
  const table = new Uint32Array(size);
  const members = backends
    .filter((backend) => (backend.weight ?? 1) > 0)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((backend) => ({ ...maglevPermutationParams(backend.key, size, options.seed), id: backend.id, weight: backend.weight ?? 1, credit: 0 }));
  if (members.length === 0) return table;
  const maxWeight = Math.max(...members.map((m) => m.weight));
  const taken = new Uint8Array(size);
  let filled = 0;
  for (;;) {
    for (const member of members) {
      member.credit += member.weight;
      while (member.credit >= maxWeight) {
        member.credit -= maxWeight;
        while (taken[member.offset]) member.offset = (member.offset + member.skip) % size;
        taken[member.offset] = 1;
        table[member.offset] = member.id;
        member.offset = (member.offset + member.skip) % size;
        if (++filled === size) return table;
      }
    }
  }
}

/** The flow a Maglev table is indexed by: the packet's source and ports, and its IP protocol number. */
export interface MaglevFlow {
  readonly saddr: string;
  readonly sport: number;
  readonly dport: number;
  /** IP protocol number (6 TCP, 17 UDP). */
  readonly proto: number;
}

/** Seed of the flow hash; bpf/lib/lb.h's LB_MAGLEV_HASH_SEED ("tych"). */
export const MAGLEV_FLOW_HASH_SEED = 0x74796368;

const rol32 = (word: number, shift: number): number => ((word << shift) | (word >>> (32 - shift))) >>> 0;

/** Bob Jenkins' lookup3 final mix of three words (the kernel's jhash_3words). */
export function jhash3Words(a: number, b: number, c: number, seed: number): number {
  const init = (0xdeadbeef + (3 << 2) + seed) >>> 0;
  a = (a + init) >>> 0;
  b = (b + init) >>> 0;
  c = (c + init) >>> 0;
  c = ((c ^ b) - rol32(b, 14)) >>> 0;
  a = ((a ^ c) - rol32(c, 11)) >>> 0;
  b = ((b ^ a) - rol32(a, 25)) >>> 0;
  c = ((c ^ b) - rol32(b, 16)) >>> 0;
  a = ((a ^ c) - rol32(c, 4)) >>> 0;
  b = ((b ^ a) - rol32(a, 14)) >>> 0;
  c = ((c ^ b) - rol32(b, 24)) >>> 0;
  return c;
}

/** A 16-bit port as a little-endian load of its network-order bytes reads it (what the BPF program sees). */
const wirePort = (port: number): number => ((port & 0xff) << 8) | ((port >>> 8) & 0xff);

/**
 * The hash bpf_host.c indexes a Maglev table with (lb4_maglev_flow_hash in
 * bpf/lib/lb.h): jhash of the source address, both ports in one word and the
 * protocol, with a fixed seed, so every node maps a flow to the same slot.
 * The destination address is left out, as in Cilium's hash_from_tuple_v4: a
 * client reaching a NodePort through either node's address gets one backend.
 * Words are read as a little-endian machine loads the packet's bytes.
 */
export function maglevFlowHash(flow: MaglevFlow): number {
  const octets = flow.saddr.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new Error(`maglev: flow source '${flow.saddr}' is not an IPv4 address`);
  }
  const saddr = (octets[0]! | (octets[1]! << 8) | (octets[2]! << 16) | (octets[3]! << 24)) >>> 0;
  const ports = ((wirePort(flow.dport) << 16) | wirePort(flow.sport)) >>> 0;
  return jhash3Words(saddr, ports, flow.proto, MAGLEV_FLOW_HASH_SEED);
}
