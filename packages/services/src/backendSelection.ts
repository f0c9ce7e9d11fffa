import { isIPv4 } from 'node:net';
import { serviceMapKeyString, type ServiceMapEntries, type ServiceMapEntry } from './serviceMaps.ts';
import type { L4Protocol } from './serviceSpec.ts';

/** Key of the ClientIP session-affinity map: one client per service (Cilium's lb_affinity_key). */
export interface AffinityKey {
  readonly revNatIndex: number;
  readonly clientAddress: string;
}

/** What the affinity map remembers: the backend and when the client last used it. */
export interface AffinityValue {
  readonly backendId: number;
  readonly lastUsedSeconds: number;
}

export function clientIpAffinityKey(revNatIndex: number, clientAddress: string): AffinityKey {
  if (!isIPv4(clientAddress)) throw new Error(`affinity: client address '${clientAddress}' is not an IPv4 address`);
  if (!Number.isInteger(revNatIndex) || revNatIndex < 1) throw new Error(`affinity: service id ${revNatIndex} is not a positive integer`);
  return { revNatIndex, clientAddress };
}

export function affinityKeyString(key: AffinityKey): string {
  return `${key.revNatIndex}/${key.clientAddress}`;
}

/** A uniformly random backend slot in 1..count, or undefined with no backend. */
export function randomBackendSlot(count: number, random: () => number = Math.random): number | undefined {
  if (count <= 0) return undefined;
  return 1 + Math.min(count - 1, Math.floor(random() * count));
}

/** The backend a Maglev table gives a flow hash (0 in the table = none). */
export function maglevBackendId(table: Uint32Array, flowHash: number): number | undefined {
  if (table.length === 0) return undefined;
  const id = table[(flowHash >>> 0) % table.length];
  return id ? id : undefined;
}

/** The compiled maps, indexed for lookups the way the datapath does them. */
export interface ServiceMapIndex {
  readonly services: ReadonlyMap<string, ServiceMapEntry>;
  readonly maglev: ReadonlyMap<number, Uint32Array>;
}

export function indexServiceMaps(entries: ServiceMapEntries): ServiceMapIndex {
  return {
    services: new Map(entries.services.map((entry) => [serviceMapKeyString(entry.key), entry])),
    maglev: new Map(entries.maglev.map((entry) => [entry.revNatIndex, entry.backendIds])),
  };
}

export interface BackendRequest {
  readonly address: string;
  readonly port: number;
  readonly protocol: L4Protocol;
  /** Arrived from the network (per-packet path) rather than from a socket on this node. */
  readonly fromOutside: boolean;
  readonly clientAddress: string;
  readonly nowSeconds: number;
  /** Hash of the packet's 5-tuple; used with a Maglev table for traffic from outside. */
  readonly flowHash?: number;
}

export type BackendChoice =
  | { readonly kind: 'not-a-service' }
  | { readonly kind: 'no-backend'; readonly revNatIndex: number }
  | { readonly kind: 'backend'; readonly revNatIndex: number; readonly backendId: number; readonly slot: number | undefined };

/**
 * A reference of the datapath's choice over the compiled maps, to check the
 * BPF programs against: find the frontend (the internal scope for traffic
 * from inside when the frontend has two); none → not a service; count 0 →
 * no backend (refuse, or drop with SERVICE_BACKEND_NOT_FOUND); a live ClientIP
 * affinity entry whose backend is still in a slot wins; else Maglev for
 * traffic from outside when the service has a table, else a random slot. The
 * affinity map is updated in place.
 */
export function selectBackend(
  index: ServiceMapIndex,
  request: BackendRequest,
  affinity: Map<string, AffinityValue>,
  random: () => number = Math.random,
): BackendChoice {
  const base = { address: request.address, port: request.port, protocol: request.protocol };
  let frontend = index.services.get(serviceMapKeyString({ ...base, scope: 'external', backendSlot: 0 }));
  if (!frontend) return { kind: 'not-a-service' };
  const scope = !request.fromOutside && frontend.value.flags.twoScopes ? 'internal' : 'external';
  if (scope === 'internal') frontend = index.services.get(serviceMapKeyString({ ...base, scope, backendSlot: 0 })) ?? frontend;
  const { count, revNatIndex, flags, affinityTimeoutSeconds } = frontend.value;
  if (count === 0) return { kind: 'no-backend', revNatIndex };
  const slots = Array.from({ length: count }, (_, i) => index.services.get(serviceMapKeyString({ ...base, scope, backendSlot: i + 1 }))?.value.backendId);
  const affinityKey = flags.sessionAffinity ? affinityKeyString(clientIpAffinityKey(revNatIndex, request.clientAddress)) : undefined;
  const remember = (backendId: number, slot: number | undefined): BackendChoice => {
    if (affinityKey) affinity.set(affinityKey, { backendId, lastUsedSeconds: request.nowSeconds });
    return { kind: 'backend', revNatIndex, backendId, slot };
  };
  const remembered = affinityKey ? affinity.get(affinityKey) : undefined;
  if (remembered && request.nowSeconds - remembered.lastUsedSeconds <= affinityTimeoutSeconds) {
    const slot = slots.indexOf(remembered.backendId);
    if (slot >= 0) return remember(remembered.backendId, slot + 1);
  }
  const table = index.maglev.get(revNatIndex);
  if (request.fromOutside && table && request.flowHash !== undefined) {
    const backendId = maglevBackendId(table, request.flowHash);
    if (backendId !== undefined) return remember(backendId, undefined);
  }
  const slot = randomBackendSlot(count, random) as number;
  const backendId = slots[slot - 1];
  if (backendId === undefined) return { kind: 'no-backend', revNatIndex };
  return remember(backendId, slot);
}
