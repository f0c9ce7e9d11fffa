import { DEFAULT_MAGLEV_TABLE_SIZE, maglevTable } from './maglev.ts';
import { backendKey, nodeFrontends, type FrontendBackend, type FrontendType, type ServiceModel } from './serviceModel.ts';
import type { L4Protocol } from './serviceSpec.ts';

/**
 * Logical records of the service BPF maps (byte layouts live in
 * bpf/include/tycho/lb.h). Modelled on Cilium's lb4 maps: one service map
 * keyed by frontend + backend slot, where slot 0 is the frontend itself
 * (backend count, reverse-NAT index, flags) and slots 1..count hold backend
 * ids; a backend map by id; a reverse-NAT map by index; one Maglev table
 * per service id.
 */

/**
 * Which traffic a service entry serves. `external`: everything, except that a
 * frontend with `externalTrafficLocal` keeps only the node's own backends
 * here; those frontends have a second set of entries, `internal`, with all
 * backends, for traffic from inside the cluster (flag `twoScopes`), as
 * Cilium's lb4_key.scope.
 */
export type LookupScope = 'external' | 'internal';

export interface ServiceMapKey {
  readonly address: string;
  readonly port: number;
  readonly protocol: L4Protocol;
  readonly scope: LookupScope;
  /** 0 = the frontend entry; 1..count = backend slots. */
  readonly backendSlot: number;
}

export interface ServiceFlags {
  readonly type: FrontendType;
  /** `sessionAffinity: ClientIP`: a client keeps its backend for `affinityTimeoutSeconds` after its last connection. */
  readonly sessionAffinity: boolean;
  /** The external-scope entries hold only node-local backends (`externalTrafficPolicy: Local`). */
  readonly externalLocal: boolean;
  /** Internal-scope entries exist for this frontend. */
  readonly twoScopes: boolean;
  /** Reachable from outside the node (every type but ClusterIP): per-packet DNAT at tc applies. */
  readonly routable: boolean;
  /** Traffic from outside picks its backend from the frontend's Maglev table (`algorithm: 'maglev'`, routable, with backends). */
  readonly maglev: boolean;
}

export interface ServiceMapValue {
  /** Slot entries: the backend's id; frontend entry (slot 0): 0. */
  readonly backendId: number;
  /** Frontend entry: number of backend slots (0: refuse / drop with SERVICE_BACKEND_NOT_FOUND); slot entries: 0. */
  readonly count: number;
  /** The service id; replies are reverse-NATed through this index. */
  readonly revNatIndex: number;
  readonly flags: ServiceFlags;
  /** Frontend entry with session affinity: the timeout; otherwise 0. */
  readonly affinityTimeoutSeconds: number;
}

export interface ServiceMapEntry {
  readonly key: ServiceMapKey;
  readonly value: ServiceMapValue;
}

export interface BackendMapEntry {
  readonly id: number;
  readonly address: string;
  readonly port: number;
  readonly protocol: L4Protocol;
  readonly state: 'active';
}

/** Reply source rewrite: from the backend back to the frontend the client connected to. */
export interface RevNatEntry {
  readonly index: number;
  readonly address: string;
  readonly port: number;
}

/** Maglev inner table of one service: `backendIds[hash % size]` is the backend of a flow. */
export interface MaglevEntry {
  readonly revNatIndex: number;
  readonly backendIds: Uint32Array;
}

export interface ServiceMapEntries {
  readonly services: readonly ServiceMapEntry[];
  readonly backends: readonly BackendMapEntry[];
  readonly revNat: readonly RevNatEntry[];
  readonly maglev: readonly MaglevEntry[];
}

export interface CompileOptions {
  /** `random` (default) or `maglev`: with `maglev`, routable frontends (NodePort, ExternalIPs, LoadBalancer) get a table. */
  readonly algorithm?: 'random' | 'maglev';
  /** Prime Maglev table size (default 16381). */
  readonly maglevTableSize?: number;
  readonly maglevSeed?: string;
}

export function serviceMapKeyString(key: ServiceMapKey): string {
  return `${key.address}:${key.port}/${key.protocol}/${key.scope}#${key.backendSlot}`;
}

function slotEntries(
  base: Omit<ServiceMapKey, 'backendSlot'>,
  backends: readonly FrontendBackend[],
  revNatIndex: number,
  flags: ServiceFlags,
  affinityTimeoutSeconds: number,
): ServiceMapEntry[] {
  return [
    { key: { ...base, backendSlot: 0 }, value: { backendId: 0, count: backends.length, revNatIndex, flags, affinityTimeoutSeconds } },
    ...backends.map((backend, i) => ({
      key: { ...base, backendSlot: i + 1 },
      value: { backendId: backend.id, count: 0, revNatIndex, flags, affinityTimeoutSeconds: 0 },
    })),
  ];
}

/**
 * Every map entry node `nodeName` needs for the model: per frontend it serves
 * (see `nodeFrontends`), the frontend entry and its backend slots (slot order
 * = the frontend's backend order), the second, internal scope for
 * `externalTrafficPolicy: Local`, the reverse-NAT entry, the backends used,
 * and with `algorithm: 'maglev'` a Maglev table per routable frontend that
 * has backends (Maglev serves per-packet traffic from outside; sockets in
 * the cluster pick at connect time). Each list is in key order.
 */
export function compileServiceMaps(model: Pick<ServiceModel, 'frontends'>, nodeName: string, options: CompileOptions = {}): ServiceMapEntries {
  const services: ServiceMapEntry[] = [];
  const revNat: RevNatEntry[] = [];
  const maglev: MaglevEntry[] = [];
  const backends = new Map<number, BackendMapEntry>();
  for (const frontend of nodeFrontends(model, nodeName)) {
    const local = frontend.externalTrafficLocal ? frontend.backends.filter((b) => b.nodeName === nodeName) : frontend.backends;
    const routable = frontend.type !== 'ClusterIP';
    const withMaglev = options.algorithm === 'maglev' && routable && local.length > 0;
    const flags: ServiceFlags = {
      type: frontend.type,
      sessionAffinity: frontend.sessionAffinity !== undefined,
      externalLocal: frontend.externalTrafficLocal,
      twoScopes: frontend.externalTrafficLocal,
      routable,
      maglev: withMaglev,
    };
    const timeout = frontend.sessionAffinity?.timeoutSeconds ?? 0;
    const base = { address: frontend.address, port: frontend.port, protocol: frontend.protocol };
    services.push(...slotEntries({ ...base, scope: 'external' }, local, frontend.id, flags, timeout));
    if (frontend.externalTrafficLocal) services.push(...slotEntries({ ...base, scope: 'internal' }, frontend.backends, frontend.id, flags, timeout));
    revNat.push({ index: frontend.id, address: frontend.address, port: frontend.port });
    for (const backend of frontend.backends) {
      backends.set(backend.id, { id: backend.id, address: backend.address, port: backend.port, protocol: backend.protocol, state: 'active' });
    }
    if (withMaglev) {
      const table = maglevTable(
        local.map((backend) => ({ id: backend.id, key: backendKey(backend) })),
        { size: options.maglevTableSize ?? DEFAULT_MAGLEV_TABLE_SIZE, ...(options.maglevSeed !== undefined ? { seed: options.maglevSeed } : {}) },
      );
      maglev.push({ revNatIndex: frontend.id, backendIds: table });
    }
  }
  return {
    services: sortedByKey(services),
    backends: [...backends.values()].sort((a, b) => a.id - b.id),
    revNat: revNat.sort((a, b) => a.index - b.index),
    maglev: maglev.sort((a, b) => a.revNatIndex - b.revNatIndex),
  };
}

/** Entries in key order (frontend, then scope, then slot), each sort key built once. */
function sortedByKey(entries: readonly ServiceMapEntry[]): ServiceMapEntry[] {
  return entries
    .map((entry) => ({ entry, frontend: `${entry.key.address}:${entry.key.port}/${entry.key.protocol}/${entry.key.scope}` }))
    .sort((a, b) => (a.frontend < b.frontend ? -1 : a.frontend > b.frontend ? 1 : a.entry.key.backendSlot - b.entry.key.backendSlot))
    .map(({ entry }) => entry);
}

/** Changes to one map: entries to write (new or changed) and keys to delete. */
export interface MapChanges<Entry, Key> {
  readonly upsert: readonly Entry[];
  readonly delete: readonly Key[];
}

export interface ServiceMapDiff {
  readonly services: MapChanges<ServiceMapEntry, ServiceMapKey>;
  readonly backends: MapChanges<BackendMapEntry, number>;
  readonly revNat: MapChanges<RevNatEntry, number>;
  readonly maglev: MapChanges<MaglevEntry, number>;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameTable(a: Uint32Array, b: Uint32Array): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function diffBy<Entry, Key>(
  before: readonly Entry[],
  after: readonly Entry[],
  keyOf: (entry: Entry) => Key,
  keyString: (key: Key) => string,
  same: (a: Entry, b: Entry) => boolean,
): MapChanges<Entry, Key> {
  const old = new Map(before.map((entry) => [keyString(keyOf(entry)), entry]));
  const seen = new Set<string>();
  const upsert: Entry[] = [];
  for (const entry of after) {
    const key = keyString(keyOf(entry));
    seen.add(key);
    const previous = old.get(key);
    if (!previous || !same(previous, entry)) upsert.push(entry);
  }
  const removed = before.filter((entry) => !seen.has(keyString(keyOf(entry)))).map(keyOf);
  return { upsert, delete: removed };
}

/** What to write and delete to turn the maps of `before` into those of `after` (e.g. after a pod turned ready). */
export function diffServiceMaps(before: ServiceMapEntries, after: ServiceMapEntries): ServiceMapDiff {
  return {
    services: diffBy(before.services, after.services, (e) => e.key, serviceMapKeyString, (a, b) => sameJson(a.value, b.value)),
    backends: diffBy(before.backends, after.backends, (e) => e.id, String, sameJson),
    revNat: diffBy(before.revNat, after.revNat, (e) => e.index, String, sameJson),
    maglev: diffBy(before.maglev, after.maglev, (e) => e.revNatIndex, String, (a, b) => sameTable(a.backendIds, b.backendIds)),
  };
}

export type ServiceMapOp =
  | { readonly map: 'backends'; readonly op: 'upsert'; readonly entry: BackendMapEntry }
  | { readonly map: 'backends'; readonly op: 'delete'; readonly id: number }
  | { readonly map: 'revNat'; readonly op: 'upsert'; readonly entry: RevNatEntry }
  | { readonly map: 'revNat'; readonly op: 'delete'; readonly index: number }
  | { readonly map: 'maglev'; readonly op: 'upsert'; readonly entry: MaglevEntry }
  | { readonly map: 'maglev'; readonly op: 'delete'; readonly revNatIndex: number }
  | { readonly map: 'services'; readonly op: 'upsert'; readonly entry: ServiceMapEntry }
  | { readonly map: 'services'; readonly op: 'delete'; readonly key: ServiceMapKey };

/**
 * The diff as map operations in an order that never lets the datapath see a
 * slot it cannot follow: new backends, reverse-NAT entries and Maglev tables
 * first; then backend slots, then frontend entries (a count grows only once
 * its slots exist, and shrinks before they go); then deleted frontend
 * entries, slots, Maglev tables, reverse-NAT entries and finally backends no
 * slot points to any more.
 */
export function serviceMapOps(diff: ServiceMapDiff): ServiceMapOp[] {
  const isFrontend = (key: ServiceMapKey) => key.backendSlot === 0;
  return [
    ...diff.backends.upsert.map((entry): ServiceMapOp => ({ map: 'backends', op: 'upsert', entry })),
    ...diff.revNat.upsert.map((entry): ServiceMapOp => ({ map: 'revNat', op: 'upsert', entry })),
    ...diff.maglev.upsert.map((entry): ServiceMapOp => ({ map: 'maglev', op: 'upsert', entry })),
    ...diff.services.upsert.filter((e) => !isFrontend(e.key)).map((entry): ServiceMapOp => ({ map: 'services', op: 'upsert', entry })),
    ...diff.services.upsert.filter((e) => isFrontend(e.key)).map((entry): ServiceMapOp => ({ map: 'services', op: 'upsert', entry })),
    ...diff.services.delete.filter(isFrontend).map((key): ServiceMapOp => ({ map: 'services', op: 'delete', key })),
    ...diff.services.delete.filter((k) => !isFrontend(k)).map((key): ServiceMapOp => ({ map: 'services', op: 'delete', key })),
    ...diff.maglev.delete.map((revNatIndex): ServiceMapOp => ({ map: 'maglev', op: 'delete', revNatIndex })),
    ...diff.revNat.delete.map((index): ServiceMapOp => ({ map: 'revNat', op: 'delete', index })),
    ...diff.backends.delete.map((id): ServiceMapOp => ({ map: 'backends', op: 'delete', id })),
  ];
}
