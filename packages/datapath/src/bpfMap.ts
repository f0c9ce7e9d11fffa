// Typed access to a BPF map: keys and values go through codecs.
import { addon, type NativeMapInfo } from './addon.ts';
import { type Codec, viewOf } from './codecs.ts';

export const MapUpdate = { ANY: 0, NOEXIST: 1, EXIST: 2 } as const;
export type MapUpdateFlag = (typeof MapUpdate)[keyof typeof MapUpdate];

// BPF_MAP_TYPE_* whose lookups return one value per possible CPU.
const PER_CPU_MAP_TYPES = new Set([5 /* PERCPU_HASH */, 6 /* PERCPU_ARRAY */, 10 /* LRU_PERCPU_HASH */]);

function checkSize(info: NativeMapInfo, what: 'key' | 'value', expected: number, actual: number): void {
  if (expected !== actual) {
    throw new Error(`map '${info.name}': ${what} codec is ${actual} bytes but the map's ${what} size is ${expected}`);
  }
}

export class BpfMap<K, V> {
  readonly info: NativeMapInfo;
  readonly #key: Codec<K>;
  readonly #value: Codec<V>;

  constructor(info: NativeMapInfo, key: Codec<K>, value: Codec<V>) {
    if (PER_CPU_MAP_TYPES.has(info.type)) throw new Error(`map '${info.name}' is per-CPU; use PerCpuBpfMap`);
    checkSize(info, 'key', info.keySize, key.size);
    checkSize(info, 'value', info.valueSize, value.size);
    this.info = info;
    this.#key = key;
    this.#value = value;
  }

  get name(): string {
    return this.info.name;
  }

  get(key: K): V | undefined {
    const out = Buffer.alloc(this.#value.size);
    if (!addon.mapLookup(this.info.fd, this.#encodeKey(key), out)) return undefined;
    return this.#value.decode(viewOf(out), 0);
  }

  set(key: K, value: V, flag: MapUpdateFlag = MapUpdate.ANY): void {
    const bytes = Buffer.alloc(this.#value.size);
    this.#value.encode(value, viewOf(bytes), 0);
    addon.mapUpdate(this.info.fd, this.#encodeKey(key), bytes, flag);
  }

  /** False when the key was absent. */
  delete(key: K): boolean {
    return addon.mapDelete(this.info.fd, this.#encodeKey(key));
  }

  *keys(): IterableIterator<K> {
    for (const raw of rawKeys(this.info.fd, this.#key.size)) yield this.#key.decode(viewOf(raw), 0);
  }

  *entries(): IterableIterator<[K, V]> {
    const out = Buffer.alloc(this.#value.size);
    for (const raw of rawKeys(this.info.fd, this.#key.size)) {
      // An entry deleted between next-key and lookup is skipped.
      if (addon.mapLookup(this.info.fd, raw, out)) {
        yield [this.#key.decode(viewOf(raw), 0), this.#value.decode(viewOf(out), 0)];
      }
    }
  }

  #encodeKey(key: K): Buffer {
    const bytes = Buffer.alloc(this.#key.size);
    this.#key.encode(key, viewOf(bytes), 0);
    return bytes;
  }
}

/** A per-CPU map: a lookup returns one value per possible CPU. */
export class PerCpuBpfMap<K, V> {
  readonly info: NativeMapInfo;
  readonly #key: Codec<K>;
  readonly #value: Codec<V>;
  readonly #cpus = addon.possibleCpus();
  readonly #stride: number;

  constructor(info: NativeMapInfo, key: Codec<K>, value: Codec<V>) {
    if (!PER_CPU_MAP_TYPES.has(info.type)) throw new Error(`map '${info.name}' is not per-CPU; use BpfMap`);
    checkSize(info, 'key', info.keySize, key.size);
    checkSize(info, 'value', info.valueSize, value.size);
    this.info = info;
    this.#key = key;
    this.#value = value;
    // The kernel lays out per-CPU values 8-byte aligned.
    this.#stride = (value.size + 7) & ~7;
  }

  get(key: K): V[] | undefined {
    const keyBytes = Buffer.alloc(this.#key.size);
    this.#key.encode(key, viewOf(keyBytes), 0);
    const out = Buffer.alloc(this.#stride * this.#cpus);
    if (!addon.mapLookup(this.info.fd, keyBytes, out)) return undefined;
    const view = viewOf(out);
    return Array.from({ length: this.#cpus }, (_, cpu) => this.#value.decode(view, cpu * this.#stride));
  }
}

function* rawKeys(fd: number, keySize: number): IterableIterator<Buffer> {
  let previous: Buffer | null = null;
  for (;;) {
    const next = Buffer.alloc(keySize);
    if (!addon.mapNextKey(fd, previous, next)) return;
    yield next;
    previous = next;
  }
}
