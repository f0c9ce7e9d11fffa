// The node's service load-balancer in the kernel: bpf_sock.o's programs on
// the node's cgroup and the service maps they read (bpf/lib/lb.h), written
// from @tycho/services' logical records. Maps are pinned by name in the
// node's pin dir, next to the endpoint datapath's, and the cgroup links
// under <pinDir>/sock/<hook>: both outlive an agent restart (a new agent
// reuses the maps and swaps the programs in through the pinned links), and
// removing the pins (`lab down`) detaches the programs.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { addon } from './addon.ts';
import { BpfObject } from './bpfObject.ts';
import type { BpfMap } from './bpfMap.ts';
import { CGROUP_SOCK_HOOKS, attachCgroupProgram, cgroupProgramIds, detachCgroupProgram, type CgroupSockHook } from './cgroup.ts';
import { u32Codec } from './codecs.ts';
import {
  ipv4KeyCodec,
  lb4BackendCodec,
  lb4KeyCodec,
  lb4NodeCodec,
  lb4ReverseNatCodec,
  lb4ReverseSkKeyCodec,
  lb4ReverseSkValueCodec,
  lb4ServiceCodec,
  lbAffinityKeyCodec,
  lbAffinityValueCodec,
  type Lb4Backend,
  type Lb4Key,
  type Lb4Node,
  type Lb4ReverseNat,
  type Lb4ReverseSkKey,
  type Lb4ReverseSkValue,
  type Lb4Service,
  type LbAffinityKey,
  type LbAffinityValue,
} from './lbCodecs.ts';

export const SOCK_OBJECT_PATH = fileURLToPath(new URL('../../../bpf/build/bpf_sock.o', import.meta.url));

/** The program of bpf_sock.c for each cgroup hook. */
export const SOCK_PROGRAMS: Readonly<Record<CgroupSockHook, string>> = {
  connect4: 'tycho_sock4_connect',
  sendmsg4: 'tycho_sock4_sendmsg',
  recvmsg4: 'tycho_sock4_recvmsg',
  getpeername4: 'tycho_sock4_getpeername',
};

/** Pinned map names (bpf/lib/lb.h, bpf/bpf_sock.c). */
export const LB_MAP_NAMES = {
  services: 'tycho_lb4_svc',
  backends: 'tycho_lb4_be',
  revNat: 'tycho_lb4_rnat',
  affinity: 'tycho_lb_aff',
  nodes: 'tycho_lb4_node',
  reverseSk: 'tycho_lb4_rsk',
  maglev: 'tycho_lb4_maglev',
} as const;

/** BPF_F_INNER_MAP: the flags of tycho_lb4_maglev's inner template, which every inserted table must share. */
const BPF_F_INNER_MAP = 1 << 12;

/** Where the cgroup links of the socket load-balancer are pinned. */
export function sockLinkDir(pinDir: string): string {
  return join(pinDir, 'sock');
}

export interface LbServiceEntry {
  readonly key: Lb4Key;
  readonly value: Lb4Service;
}
export interface LbBackendEntry extends Lb4Backend {
  readonly id: number;
}
export interface LbRevNatEntry extends Lb4ReverseNat {
  readonly index: number;
}

/** A service's Maglev table (per-packet traffic from outside, bpf_host.c): `backendIds[hash % M]`, M prime. */
export interface LbMaglevEntry {
  readonly revNatIndex: number;
  readonly backendIds: Uint32Array;
}

/** The maps' contents, shaped as @tycho/services' ServiceMapEntries (no `maglev`: no table). */
export interface LbMapEntries {
  readonly services: readonly LbServiceEntry[];
  readonly backends: readonly LbBackendEntry[];
  readonly revNat: readonly LbRevNatEntry[];
  readonly maglev?: readonly LbMaglevEntry[];
}

/** One change, shaped as @tycho/services' ServiceMapOp. */
export type LbMapOp =
  | { readonly map: 'backends'; readonly op: 'upsert'; readonly entry: LbBackendEntry }
  | { readonly map: 'backends'; readonly op: 'delete'; readonly id: number }
  | { readonly map: 'revNat'; readonly op: 'upsert'; readonly entry: LbRevNatEntry }
  | { readonly map: 'revNat'; readonly op: 'delete'; readonly index: number }
  | { readonly map: 'maglev'; readonly op: 'upsert'; readonly entry: LbMaglevEntry }
  | { readonly map: 'maglev'; readonly op: 'delete'; readonly revNatIndex: number }
  | { readonly map: 'services'; readonly op: 'upsert'; readonly entry: LbServiceEntry }
  | { readonly map: 'services'; readonly op: 'delete'; readonly key: Lb4Key };

export interface NodeAddress {
  readonly address: string;
  readonly local: boolean;
}

export interface ServiceDatapathOptions {
  /** The node's bpffs pin dir: maps are pinned (or reused) here, links below it. */
  pinDir: string;
  objectPath?: string;
}

function keyString(key: Lb4Key): string {
  return `${key.address}:${key.port}/${key.protocol}/${key.scope}#${key.backendSlot}`;
}

export class ServiceDatapath {
  readonly pinDir: string;
  readonly services: BpfMap<Lb4Key, Lb4Service>;
  readonly backends: BpfMap<number, Lb4Backend>;
  readonly revNat: BpfMap<number, Lb4ReverseNat>;
  readonly affinity: BpfMap<LbAffinityKey, LbAffinityValue>;
  readonly nodes: BpfMap<string, Lb4Node>;
  readonly reverseSk: BpfMap<Lb4ReverseSkKey, Lb4ReverseSkValue>;
  /** rev-NAT index → Maglev table. Written with an inner map's fd; a lookup returns the inner map's id (read tables with maglevTable). */
  readonly maglev: BpfMap<number, number>;
  readonly #object: BpfObject;

  private constructor(pinDir: string, object: BpfObject) {
    this.pinDir = pinDir;
    this.#object = object;
    this.services = object.map(LB_MAP_NAMES.services, lb4KeyCodec, lb4ServiceCodec);
    this.backends = object.map(LB_MAP_NAMES.backends, u32Codec, lb4BackendCodec);
    this.revNat = object.map(LB_MAP_NAMES.revNat, u32Codec, lb4ReverseNatCodec);
    this.affinity = object.map(LB_MAP_NAMES.affinity, lbAffinityKeyCodec, lbAffinityValueCodec);
    this.nodes = object.map(LB_MAP_NAMES.nodes, ipv4KeyCodec, lb4NodeCodec);
    this.reverseSk = object.map(LB_MAP_NAMES.reverseSk, lb4ReverseSkKeyCodec, lb4ReverseSkValueCodec);
    this.maglev = object.map(LB_MAP_NAMES.maglev, u32Codec, u32Codec);
  }

  /** Loads bpf_sock.o with its maps pinned in (or reused from) `pinDir`. Attaches nothing. */
  static open(options: ServiceDatapathOptions): ServiceDatapath {
    mkdirSync(options.pinDir, { recursive: true });
    return new ServiceDatapath(options.pinDir, BpfObject.open(options.objectPath ?? SOCK_OBJECT_PATH, { pinRoot: options.pinDir }));
  }

  /** Applies changes in the order given (serviceMapOps' order keeps every slot followable). */
  apply(ops: readonly LbMapOp[]): void {
    for (const op of ops) {
      switch (op.map) {
        case 'backends':
          if (op.op === 'upsert') this.backends.set(op.entry.id, op.entry);
          else this.backends.delete(op.id);
          break;
        case 'revNat':
          if (op.op === 'upsert') this.revNat.set(op.entry.index, op.entry);
          else this.revNat.delete(op.index);
          break;
        case 'services':
          if (op.op === 'upsert') this.services.set(op.entry.key, op.entry.value);
          else this.services.delete(op.key);
          break;
        case 'maglev':
          if (op.op === 'upsert') this.setMaglevTable(op.entry.revNatIndex, op.entry.backendIds);
          else this.maglev.delete(op.revNatIndex);
          break;
      }
    }
  }

  /**
   * Installs a service's Maglev table: a new inner array [M, ids...] (layout
   * in bpf/include/tycho/lb.h) filled first, then put under the rev-NAT index
   * in one update, so bpf_host.c sees the old table or the new one whole.
   */
  setMaglevTable(revNatIndex: number, backendIds: Uint32Array): void {
    if (backendIds.length === 0) throw new Error(`maglev table of service ${revNatIndex}: empty (a table has M > 0 slots)`);
    const values = Buffer.alloc((backendIds.length + 1) * 4);
    values.writeUInt32LE(backendIds.length, 0);
    backendIds.forEach((id, i) => values.writeUInt32LE(id, (i + 1) * 4));
    const fd = addon.arrayMapCreate('tycho_maglev', values, BPF_F_INNER_MAP);
    try {
      this.maglev.set(revNatIndex, fd);
    } finally {
      addon.closeFd(fd);
    }
  }

  /** The Maglev table installed for a service (its M backend ids), or undefined. */
  maglevTable(revNatIndex: number): Uint32Array | undefined {
    const id = this.maglev.get(revNatIndex);
    if (id === undefined) return undefined;
    const fd = addon.mapFdById(id);
    try {
      const key = Buffer.alloc(4);
      const value = Buffer.alloc(4);
      const read = (index: number): number => {
        key.writeUInt32LE(index, 0);
        if (!addon.mapLookup(fd, key, value)) throw new Error(`maglev table of service ${revNatIndex}: no entry ${index}`);
        return value.readUInt32LE(0);
      };
      const table = new Uint32Array(read(0));
      for (let i = 0; i < table.length; i++) table[i] = read(i + 1);
      return table;
    } finally {
      addon.closeFd(fd);
    }
  }

  /**
   * Makes the maps hold exactly `entries`, whatever they held (after an agent
   * restart, the pinned maps still hold the last agent's state). Writes in
   * the safe order: backends and rev-NAT, Maglev tables, slots, frontend
   * entries; then removes what is no longer wanted in the reverse order.
   */
  sync(entries: LbMapEntries): { written: number; deleted: number } {
    let written = 0;
    let deleted = 0;
    for (const backend of entries.backends) this.backends.set(backend.id, backend);
    for (const revNat of entries.revNat) this.revNat.set(revNat.index, revNat);
    const maglev = entries.maglev ?? [];
    for (const table of maglev) this.setMaglevTable(table.revNatIndex, table.backendIds);
    const slotsFirst = [...entries.services].sort((a, b) => Number(a.key.backendSlot === 0) - Number(b.key.backendSlot === 0));
    for (const entry of slotsFirst) this.services.set(entry.key, entry.value);
    written = entries.backends.length + entries.revNat.length + maglev.length + entries.services.length;

    const wantedServices = new Set(entries.services.map((e) => keyString(e.key)));
    const staleServices = [...this.services.keys()].filter((key) => !wantedServices.has(keyString(key)));
    staleServices.sort((a, b) => Number(b.backendSlot === 0) - Number(a.backendSlot === 0));
    for (const key of staleServices) if (this.services.delete(key)) deleted++;
    const wantedMaglev = new Set(maglev.map((e) => e.revNatIndex));
    for (const index of [...this.maglev.keys()]) if (!wantedMaglev.has(index) && this.maglev.delete(index)) deleted++;
    const wantedRevNat = new Set(entries.revNat.map((e) => e.index));
    for (const index of [...this.revNat.keys()]) if (!wantedRevNat.has(index) && this.revNat.delete(index)) deleted++;
    const wantedBackends = new Set(entries.backends.map((e) => e.id));
    for (const id of [...this.backends.keys()]) if (!wantedBackends.has(id) && this.backends.delete(id)) deleted++;
    return { written, deleted };
  }

  /** Makes the node-address map hold exactly these addresses (node ports are served on each). */
  setNodeAddresses(addresses: readonly NodeAddress[]): void {
    const wanted = new Map(addresses.map((a) => [a.address, a]));
    for (const address of [...this.nodes.keys()]) if (!wanted.has(address)) this.nodes.delete(address);
    for (const a of wanted.values()) this.nodes.set(a.address, { local: a.local });
  }

  /** Attaches the four programs at the cgroup (v2 directory), through links pinned under <pinDir>/sock/. */
  attach(cgroupPath: string): void {
    const dir = sockLinkDir(this.pinDir);
    mkdirSync(dir, { recursive: true });
    for (const hook of CGROUP_SOCK_HOOKS) {
      attachCgroupProgram(cgroupPath, hook, this.#object.programFd(SOCK_PROGRAMS[hook]), join(dir, hook));
    }
  }

  /** Ids of the programs on each hook of the cgroup. */
  static attachedProgramIds(cgroupPath: string): Record<CgroupSockHook, number[]> {
    const out = {} as Record<CgroupSockHook, number[]>;
    for (const hook of CGROUP_SOCK_HOOKS) out[hook] = cgroupProgramIds(cgroupPath, hook);
    return out;
  }

  /** Detaches the programs pinned under `pinDir` and removes their pins. Idempotent. */
  static detach(pinDir: string): void {
    const dir = sockLinkDir(pinDir);
    for (const hook of CGROUP_SOCK_HOOKS) detachCgroupProgram(join(dir, hook));
    rmSync(dir, { recursive: true, force: true });
  }

  /** Closes the object's fds; pinned maps and links stay. */
  close(): void {
    this.#object.close();
  }
}
