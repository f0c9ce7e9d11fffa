import { describe, expect, it } from 'vitest';
import { jhash3Words, maglevFlowHash, maglevPermutationParams, maglevTable, MAGLEV_FLOW_HASH_SEED, MAGLEV_TABLE_SIZES, type MaglevBackend } from './maglev.ts';

function backends(n: number, subnet = 1): MaglevBackend[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, key: `10.244.${subnet}.${i + 10}:8080/TCP` }));
}

function counts(table: Uint32Array): Map<number, number> {
  const out = new Map<number, number>();
  for (const id of table) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}

/** Share of slots that belonged to a backend in both tables and still do not point at the same one. */
function movedShare(before: Uint32Array, after: Uint32Array, stayed: (id: number) => boolean): number {
  let eligible = 0;
  let moved = 0;
  before.forEach((id, slot) => {
    if (!stayed(id)) return;
    eligible++;
    if (after[slot] !== id) moved++;
  });
  return moved / eligible;
}

describe('maglevTable', () => {
  it.each([251, 1021, 16381])('gives each of 7 backends floor(M/N) or ceil(M/N) of %i slots', (size) => {
    const table = maglevTable(backends(7), { size });
    expect(table).toHaveLength(size);
    const perBackend = counts(table);
    expect([...perBackend.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const n of perBackend.values()) expect([Math.floor(size / 7), Math.ceil(size / 7)]).toContain(n);
  });

  it('moves at most 1% of the other backends\u2019 slots when one of 10 goes (M = 16381)', () => {
    for (let trial = 0; trial < 10; trial++) {
      const all = backends(10, trial);
      const gone = all[trial]?.id as number;
      const before = maglevTable(all);
      const after = maglevTable(all.filter((b) => b.id !== gone));
      expect(after.includes(gone)).toBe(false);
      expect(movedShare(before, after, (id) => id !== gone)).toBeLessThanOrEqual(0.01);
    }
  });

  it('hands a new backend its share mostly from the others, moving few slots between them (M = 16381)', () => {
    const before = maglevTable(backends(9));
    const after = maglevTable(backends(10));
    const newcomer = counts(after).get(10) as number;
    expect([Math.floor(16381 / 10), Math.ceil(16381 / 10)]).toContain(newcomer);
    const changed = before.filter((id, slot) => after[slot] !== id && after[slot] !== 10).length;
    expect(changed / 16381).toBeLessThanOrEqual(0.01);
  });

  it('is the same table for the same backends in any order, and changes with the seed', () => {
    const list = backends(5);
    const table = maglevTable(list, { size: 1021 });
    expect(maglevTable([...list].reverse(), { size: 1021 })).toEqual(table);
    expect(maglevTable(list, { size: 1021, seed: 'other-seed' })).not.toEqual(table);
  });

  it('derives a permutation that visits every slot: skip is in 1..M-1', () => {
    for (const key of ['a', 'b', '10.244.0.1:80/TCP']) {
      const { offset, skip } = maglevPermutationParams(key, 251);
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(251);
      expect(skip).toBeGreaterThanOrEqual(1);
      expect(skip).toBeLessThan(251);
    }
  });

  it('gives slots in proportion to weight, and none for weight 0', () => {
    const table = maglevTable(
      [
        { id: 1, key: 'a', weight: 3 },
        { id: 2, key: 'b', weight: 1 },
        { id: 3, key: 'c', weight: 0 },
      ],
      { size: 16381 },
    );
    const perBackend = counts(table);
    expect(perBackend.get(3)).toBeUndefined();
    expect(Math.abs((perBackend.get(1) as number) - (16381 * 3) / 4)).toBeLessThanOrEqual(3);
  });

  it('fills the table with 0 when there is no backend', () => {
    expect(maglevTable([], { size: 251 }).every((id) => id === 0)).toBe(true);
  });

  it("accepts every Cilium table size and refuses a size that is not prime", () => {
    for (const size of MAGLEV_TABLE_SIZES.slice(0, 4)) expect(maglevTable(backends(2), { size })).toHaveLength(size);
    expect(() => maglevTable(backends(2), { size: 1000 })).toThrow('maglev: table size 1000 is not a prime (Cilium\'s sizes: 251, 509,');
  });

  it('refuses a negative or fractional weight and a backend listed twice', () => {
    expect(() => maglevTable([{ id: 1, key: 'a', weight: -1 }])).toThrow('maglev: backend a: weight -1 is not a whole number >= 0');
    expect(() => maglevTable([{ id: 1, key: 'a' }, { id: 2, key: 'a' }])).toThrow('maglev: backend a is listed twice');
  });
});

describe('maglevFlowHash', () => {
  const flow = { saddr: '198.51.100.7', sport: 40001, dport: 31414, proto: 6 };

  it('is jhash of the source address and both ports as a little-endian machine loads them, and the protocol', () => {
    // 198.51.100.7 → bytes c6 33 64 07 → LE word 0x076433c6; 40001 = 0x9c41 → 0x419c; 31414 = 0x7ab6 → 0xb67a.
    expect(maglevFlowHash(flow)).toBe(jhash3Words(0x076433c6, (0xb67a << 16 | 0x419c) >>> 0, 6, MAGLEV_FLOW_HASH_SEED));
  });

  it('changes with the source port and the protocol, and is an unsigned 32-bit number', () => {
    const hashes = new Set([maglevFlowHash(flow), maglevFlowHash({ ...flow, sport: 40002 }), maglevFlowHash({ ...flow, proto: 17 })]);
    expect(hashes.size).toBe(3);
    for (const hash of hashes) expect(hash >>> 0).toBe(hash);
  });

  it('spreads flows evenly over a table: each of 4 backends gets a fair share of 4000 source ports', () => {
    const table = maglevTable(backends(4), { size: 1021 });
    const perBackend = new Map<number, number>();
    for (let sport = 20000; sport < 24000; sport++) {
      const id = table[maglevFlowHash({ ...flow, sport }) % table.length]!;
      perBackend.set(id, (perBackend.get(id) ?? 0) + 1);
    }
    for (const n of perBackend.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  it('refuses a source that is not an IPv4 address', () => {
    expect(() => maglevFlowHash({ ...flow, saddr: '10.0.0' })).toThrow("maglev: flow source '10.0.0' is not an IPv4 address");
  });
});
