// A compiled eBPF object loaded into the kernel, maps pinned by name.
import { addon, type NativeBpfObject, type NativeMapInfo } from './addon.ts';
import { BpfMap, PerCpuBpfMap } from './bpfMap.ts';
import type { Codec } from './codecs.ts';

export interface BpfObjectOptions {
  /** Directory in bpffs for maps declared with LIBBPF_PIN_BY_NAME; maps pinned
   * there already are reused (their state survives), others are pinned.
   * Without it nothing is pinned: every map is new and private to the object. */
  pinRoot?: string;
}

export class BpfObject {
  readonly path: string;
  readonly #native: NativeBpfObject;

  private constructor(path: string, native: NativeBpfObject) {
    this.path = path;
    this.#native = native;
  }

  /** Opens and loads (verifies) every program of the object at `path`. */
  static open(path: string, options: BpfObjectOptions = {}): BpfObject {
    return new BpfObject(path, new addon.NativeBpfObject(path, options.pinRoot));
  }

  programFd(name: string): number {
    return this.#native.programFd(name);
  }

  programNames(): string[] {
    return this.#native.programNames();
  }

  mapNames(): string[] {
    return this.#native.mapNames();
  }

  mapInfo(name: string): NativeMapInfo {
    return this.#native.mapInfo(name);
  }

  map<K, V>(name: string, key: Codec<K>, value: Codec<V>): BpfMap<K, V> {
    return new BpfMap(this.mapInfo(name), key, value);
  }

  perCpuMap<K, V>(name: string, key: Codec<K>, value: Codec<V>): PerCpuBpfMap<K, V> {
    return new PerCpuBpfMap(this.mapInfo(name), key, value);
  }

  /** Closes the object's fds. Pinned maps and attached programs stay in the kernel. */
  close(): void {
    this.#native.close();
  }
}
