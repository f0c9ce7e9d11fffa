import type { IpcacheEntry, IpcacheKey4, PolicyEndpointState, PolicyKey, PolicyValue } from '@tycho/datapath';
import { type Direction, type Identity, type PolicyRef, prefixOfIdentity } from '@tycho/policy';
import type { DirectionMapState, HostAddress, PolicyDatapath } from './policyDatapath.ts';

/** The part of a BpfMap the writer uses (PolicyMaps' maps; tests pass real ones). */
export interface PolicyMapHandle<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): boolean;
  keys(): Iterable<K>;
}

/** The node's policy maps (@tycho/datapath's PolicyMaps). */
export interface PolicyMapSet {
  readonly ipcache: PolicyMapHandle<IpcacheKey4, IpcacheEntry>;
  /** `info` names the map and bounds it: the keys of every endpoint together fit in maxEntries. */
  readonly policy: PolicyMapHandle<PolicyKey, PolicyValue> & { readonly info: { readonly name: string; readonly maxEntries: number } };
  readonly endpoints: PolicyMapHandle<number, PolicyEndpointState>;
}

const NOT_LOOKED_UP = { enforced: false, needsLookup: false } as const;

function policyKeyId(key: PolicyKey): string {
  return `${key.endpointId}/${key.direction}/${key.identity}/${key.protocol}/${key.port}/${key.prefixLen}`;
}

function ipcacheKeyId(key: IpcacheKey4): string {
  return `${key.address}/${key.prefixLen}`;
}

/** Map writes between two yields of a stepped write. */
const WRITES_PER_STEP = 1024;

function runToEnd(steps: Generator<void>): void {
  while (!steps.next().done);
}

function ipv4OfBigint(address: bigint): string {
  const n = Number(address);
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join('.');
}

/**
 * The PolicyDatapath that enforces: writes the agent's resolved policy into
 * the node's BPF maps (bpf/lib/policy.h; docs/contracts.md "Policy
 * enforcement in eBPF").
 * - Policy map: one key per PolicyMapKey, `{endpointId, direction,
 *   identity, protocol, port, prefixLen}` → `{deny, policyList}`, where
 *   policyList numbers each distinct list of policies (1, 2, …; 0 = none).
 * - Per-endpoint flags: enforced / needs lookup per direction.
 * - ipcache: the CIDR identities' prefixes, and every pod and node address
 *   (/32) from `updateHostAddresses`; a host address wins over a CIDR /32.
 * Writes are ordered so that a change never opens a gap: new keys first,
 * then the endpoint's flags, then the keys that went away; a key already
 * holding its value is not written again, so a change costs map writes in
 * proportion to what changed. A policy that would not fit in the policy map
 * is refused whole before any write (the endpoint keeps what it had). The
 * maps' existing contents (a restarted agent reuses the pins) are read
 * first, so the first write for an endpoint also removes what the last
 * agent left.
 */
export function createBpfPolicyDatapath(maps: PolicyMapSet): PolicyDatapath {
  /** Keys written per endpoint and direction, with their values. */
  const written = new Map<number, Map<Direction, Map<string, { key: PolicyKey; value: PolicyValue }>>>();
  let keysInMap = 0;
  const flags = new Map<number, PolicyEndpointState>();
  const policyLists = new Map<string, number>();
  const cidrEntries = new Map<string, { key: IpcacheKey4; entry: IpcacheEntry }>();
  let hostEntries = new Map<string, { key: IpcacheKey4; entry: IpcacheEntry }>();
  const ipcacheWritten = new Map<string, IpcacheEntry>();

  for (const key of maps.policy.keys()) {
    const value = maps.policy.get(key);
    if (!value) continue;
    keysOf(key.endpointId, key.direction).set(policyKeyId(key), { key, value });
    keysInMap++;
  }
  for (const endpointId of maps.endpoints.keys()) {
    const state = maps.endpoints.get(endpointId);
    if (state) flags.set(endpointId, state);
  }
  for (const key of maps.ipcache.keys()) {
    const entry = maps.ipcache.get(key);
    if (entry) ipcacheWritten.set(ipcacheKeyId(key), entry);
  }

  function keysOf(endpointId: number, direction: Direction): Map<string, { key: PolicyKey; value: PolicyValue }> {
    let byDirection = written.get(endpointId);
    if (!byDirection) written.set(endpointId, (byDirection = new Map()));
    let keys = byDirection.get(direction);
    if (!keys) byDirection.set(direction, (keys = new Map()));
    return keys;
  }

  function policyListOf(policies: readonly PolicyRef[]): number {
    if (policies.length === 0) return 0;
    const id = JSON.stringify(policies.map((ref) => [ref.kind, ref.namespace, ref.name]).sort());
    let number = policyLists.get(id);
    if (number === undefined) policyLists.set(id, (number = policyLists.size + 1));
    return number;
  }

  /** A kernel refusal (ENOSPC, E2BIG, …) named with the map and the key, not only the errno. */
  function writeKey(key: PolicyKey, value: PolicyValue): void {
    try {
      maps.policy.set(key, value);
    } catch (err) {
      throw new Error(`policy map ${maps.policy.info.name}: cannot write the key for endpoint ${key.endpointId} ${key.direction} identity ${key.identity}: ${(err as Error).message}`);
    }
  }

  /** The entry the ipcache must hold for a prefix now: a host address wins over a CIDR /32. */
  function wantedIpcacheEntry(id: string): { key: IpcacheKey4; entry: IpcacheEntry } | undefined {
    return hostEntries.get(id) ?? cidrEntries.get(id);
  }

  /**
   * Makes the ipcache map hold the union of CIDR and host entries, writing
   * only differences, in steps. Each write checks what is wanted at that
   * moment, so a host-address update made between two steps is not undone.
   */
  function* syncIpcache(): Generator<void> {
    let writes = 0;
    for (const id of [...cidrEntries.keys(), ...hostEntries.keys()]) {
      const wanted = wantedIpcacheEntry(id);
      const before = ipcacheWritten.get(id);
      if (!wanted || (before && before.identity === wanted.entry.identity && before.local === wanted.entry.local)) continue;
      maps.ipcache.set(wanted.key, wanted.entry);
      ipcacheWritten.set(id, wanted.entry);
      if (++writes % WRITES_PER_STEP === 0) yield;
    }
    for (const id of [...ipcacheWritten.keys()]) {
      if (wantedIpcacheEntry(id) || !ipcacheWritten.has(id)) continue;
      const [address, prefixLen] = id.split('/');
      maps.ipcache.delete({ address: address!, prefixLen: Number(prefixLen) });
      ipcacheWritten.delete(id);
      if (++writes % WRITES_PER_STEP === 0) yield;
    }
  }

  function* writeEndpointPolicy(endpointId: number, direction: Direction, state: DirectionMapState): Generator<void> {
    // Tracks every key as it is written: after a failed call the next one still removes what is not wanted.
    const tracked = keysOf(endpointId, direction);
    const after = new Map<string, { key: PolicyKey; value: PolicyValue }>();
    let added = 0;
    for (const mapKey of state.keys) {
      const key: PolicyKey = {
        endpointId,
        direction,
        identity: mapKey.identity,
        protocol: mapKey.protocol,
        port: mapKey.port,
        prefixLen: mapKey.prefixLen,
      };
      const id = policyKeyId(key);
      after.set(id, { key, value: { deny: mapKey.deny, policyList: policyListOf(mapKey.policies) } });
      if (!tracked.has(id)) added++;
    }
    // New keys go in before old ones leave, so both must fit at once.
    const limit = maps.policy.info.maxEntries;
    if (keysInMap + added > limit) {
      throw new Error(
        `policy map ${maps.policy.info.name} is full: endpoint ${endpointId} ${direction} needs ${after.size} keys (${added} new), ` +
          `${keysInMap} of at most ${limit} are in use by all endpoints; its previous policy stays in force (make the policy smaller, or select fewer endpoints)`,
      );
    }
    let writes = 0;
    for (const [id, next] of after) {
      const before = tracked.get(id);
      if (before && before.value.deny === next.value.deny && before.value.policyList === next.value.policyList) continue;
      writeKey(next.key, next.value);
      if (!before) keysInMap++;
      tracked.set(id, next);
      if (++writes % WRITES_PER_STEP === 0) yield;
    }
    const current = flags.get(endpointId) ?? { ingress: NOT_LOOKED_UP, egress: NOT_LOOKED_UP };
    const wanted = { enforced: state.enforced, needsLookup: state.needsLookup };
    if (!flags.has(endpointId) || current[direction].enforced !== wanted.enforced || current[direction].needsLookup !== wanted.needsLookup) {
      const next = { ...current, [direction]: wanted };
      maps.endpoints.set(endpointId, next);
      flags.set(endpointId, next);
    }
    for (const [id, { key }] of [...tracked]) {
      if (after.has(id)) continue;
      maps.policy.delete(key);
      tracked.delete(id);
      keysInMap--;
      if (++writes % WRITES_PER_STEP === 0) yield;
    }
  }

  function* writeCidrIdentities(added: readonly Identity[], removed: readonly Identity[]): Generator<void> {
    for (const identity of removed) {
      const prefix = prefixOfIdentity(identity);
      if (prefix?.family === 4) cidrEntries.delete(ipcacheKeyId({ address: ipv4OfBigint(prefix.address), prefixLen: prefix.length }));
    }
    for (const identity of added) {
      const prefix = prefixOfIdentity(identity);
      // The ipcache holds IPv4 prefixes only (IPv6 is not enforced yet).
      if (prefix?.family !== 4) continue;
      const key = { address: ipv4OfBigint(prefix.address), prefixLen: prefix.length };
      cidrEntries.set(ipcacheKeyId(key), { key, entry: { identity: identity.id, local: false } });
    }
    yield* syncIpcache();
  }

  const datapath: PolicyDatapath = {
    setEndpointPolicy(endpointId: number, direction: Direction, state: DirectionMapState): void {
      runToEnd(writeEndpointPolicy(endpointId, direction, state));
    },

    setEndpointPolicySteps: writeEndpointPolicy,

    removeEndpoint(endpointId: number): void {
      maps.endpoints.delete(endpointId);
      flags.delete(endpointId);
      for (const keys of written.get(endpointId)?.values() ?? []) {
        for (const { key } of keys.values()) maps.policy.delete(key);
        keysInMap -= keys.size;
      }
      written.delete(endpointId);
    },

    updateCidrIdentities(added: readonly Identity[], removed: readonly Identity[]): void {
      runToEnd(writeCidrIdentities(added, removed));
    },

    updateCidrIdentitiesSteps: writeCidrIdentities,

    updateHostAddresses(addresses: readonly HostAddress[]): void {
      const next = new Map<string, { key: IpcacheKey4; entry: IpcacheEntry }>();
      for (const host of addresses) {
        const key = { address: host.address, prefixLen: 32 };
        next.set(ipcacheKeyId(key), { key, entry: { identity: host.identity, local: host.local } });
      }
      hostEntries = next;
      runToEnd(syncIpcache());
    },
  };

  return datapath;
}
