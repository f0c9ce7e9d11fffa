import { ReservedIdentity } from '@tycho/flow';
import { formatPrefix, hostPrefix, type Prefix, prefixContains } from './cidr.ts';
import { type DnsRecord, fqdnAddresses } from './dnsCache.ts';
import { type EndpointSelector, selectorMatches } from './endpointSelector.ts';
import { type Identity, isClusterWorkloadIdentity, prefixOfIdentity, reservedIdentities } from './identities.ts';
import { type Label, parseLabel } from './labels.ts';
import type { Entity, Peer } from './policyModel.ts';

/**
 * Cilium's SelectorCache: which identities each peer of the policies in
 * force selects, kept up to date as identities come and go. Every peer
 * (an endpoint selector, entity, CIDR or toFQDNs selector) is one Selection,
 * shared by every rule naming the same peer. Work grows with what changed:
 * a new identity is checked only against the selections an index says it
 * could match (a label it carries, a prefix containing it), a new selection
 * only against the identities an index says it could select.
 */

/** A peer other than a wildcard (those stand for identity 0). */
export type SelectablePeer = Exclude<Peer, { kind: 'entity'; entity: 'all' }>;

export interface Selection {
  readonly key: string;
  readonly peer: SelectablePeer;
  /** The identities selected now. */
  readonly ids: ReadonlySet<number>;
}

/** What one update changed in one selection. */
export interface SelectionChange {
  readonly selection: Selection;
  readonly added: readonly number[];
  readonly removed: readonly number[];
}

interface KnownIdentity {
  readonly id: number;
  readonly labels: readonly Label[];
  /** The label texts joined: tells a relabelled identity apart. */
  readonly labelText: string;
  /** Set for CIDR identities. */
  readonly prefix: Prefix | undefined;
  readonly prefixText: string | undefined;
}

interface SelectionState extends Selection {
  readonly ids: Set<number>;
  users: number;
  /** Where it sits in the selection indexes. */
  readonly anchors: readonly string[];
  /** toFQDNs: the host prefixes (text) of the live DNS answers it matches. */
  hosts: Set<string>;
}

/** Identity numbers the fixed entities stand for (`world` and `cluster` are computed). */
const FIXED_ENTITY_IDENTITIES: Partial<Record<Entity, readonly number[]>> = {
  host: [ReservedIdentity.host],
  'remote-node': [ReservedIdentity['remote-node']],
  'kube-apiserver': [ReservedIdentity['kube-apiserver']],
  init: [ReservedIdentity.init],
  health: [ReservedIdentity.health],
  unmanaged: [ReservedIdentity.unmanaged],
  ingress: [ReservedIdentity.ingress],
  none: [],
};

/** Reserved identities Cilium's `cluster` entity covers besides every workload. */
const CLUSTER_RESERVED: ReadonlySet<number> = new Set([
  ReservedIdentity.host,
  ReservedIdentity['remote-node'],
  ReservedIdentity['kube-apiserver'],
  ReservedIdentity.init,
  ReservedIdentity.health,
  ReservedIdentity.unmanaged,
  ReservedIdentity.ingress,
]);

/** One text per distinct peer: equal peers share a selection. */
export function peerKey(peer: SelectablePeer): string {
  switch (peer.kind) {
    case 'selector':
      return `selector:${JSON.stringify(peer.selector.requirements)}`;
    case 'entity':
      return `entity:${peer.entity}`;
    case 'cidr':
      return `cidr:${[peer.cidr, ...peer.except].map((prefix) => `${prefix.family}/${prefix.address.toString(16)}/${prefix.length}`).join(',')}`;
    case 'fqdn':
      return `fqdn:${JSON.stringify(peer.selector)}`;
  }
}

function familyBits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function maskedKey(family: 4 | 6, address: bigint, length: number): string {
  const bits = BigInt(familyBits(family));
  const hostBits = bits - BigInt(length);
  return `${family}/${length}/${((address >> hostBits) << hostBits).toString(16)}`;
}

function cidrAnchor(prefix: Prefix): string {
  return `cidr:${maskedKey(prefix.family, prefix.address, prefix.length)}`;
}

export class SelectorCache {
  private readonly identities = new Map<number, KnownIdentity>();
  /** Identity index: `key=value` and `key` (sources ignored; candidates are checked in full) → ids. */
  private readonly idsByLabel = new Map<string, Set<number>>();
  /** CIDR identities by address, rebuilt when they change, for range queries. */
  private sortedCidrIds: { readonly 4: KnownIdentity[]; readonly 6: KnownIdentity[] } | undefined;
  private readonly idsByPrefixText = new Map<string, number>();

  private readonly selections = new Map<string, SelectionState>();
  /** Selection index: anchor → selections an identity carrying it may be selected by. */
  private readonly selectionsByAnchor = new Map<string, Set<SelectionState>>();
  /** Prefix lengths CIDR selections use, per family (which anchors a CIDR identity looks up). */
  private readonly cidrLengths = { 4: new Map<number, number>(), 6: new Map<number, number>() };
  /** Which selections hold each identity (removing one touches only those). */
  private readonly selectionsOf = new Map<number, Set<SelectionState>>();
  /** Selections created since the last update, evaluated in full there. */
  private readonly fresh = new Set<SelectionState>();
  private dnsRecords: readonly DnsRecord[] = [];
  private nowMs = 0;
  /** How many (identity, selection) pairs were checked, all updates together. */
  checks = 0;

  constructor() {
    this.setIdentitiesNow(reservedIdentities());
  }

  /** The selection for a peer, created (empty until the next update) on first use; release it when done. */
  acquire(peer: SelectablePeer, key = peerKey(peer)): Selection {
    let selection = this.selections.get(key);
    if (!selection) {
      const anchors = this.anchorsOf(peer);
      selection = { key, peer, ids: new Set(), users: 0, anchors, hosts: new Set() };
      this.selections.set(key, selection);
      for (const anchor of anchors) this.index(this.selectionsByAnchor, anchor, selection);
      if (peer.kind === 'cidr') this.countLength(peer.cidr, 1);
      this.fresh.add(selection);
    }
    selection.users++;
    return selection;
  }

  release(selection: Selection): void {
    const state = this.selections.get(selection.key);
    if (!state || --state.users > 0) return;
    this.selections.delete(state.key);
    this.fresh.delete(state);
    for (const anchor of state.anchors) this.unindex(this.selectionsByAnchor, anchor, state);
    if (state.peer.kind === 'cidr') this.countLength(state.peer.cidr, -1);
    for (const id of state.ids) this.selectionsOf.get(id)?.delete(state);
  }

  /** Whether the selection was created since the last update (its identities are not known yet). */
  isFresh(selection: Selection): boolean {
    return this.fresh.has(selection as SelectionState);
  }

  /**
   * Makes the known identities `identities` (plus the reserved ones), the DNS
   * answers `records`, and evaluates new selections; reports the selections
   * whose identities changed (new selections are not reported: read their ids).
   * A generator: it yields between bounded steps so that a caller can let
   * other work run.
   */
  *update(identities: readonly Identity[], records: readonly DnsRecord[], nowMs: number): Generator<void, SelectionChange[]> {
    const changes = new Map<SelectionState, { added: number[]; removed: number[] }>();
    const note = (selection: SelectionState, id: number, added: boolean) => {
      if (this.fresh.has(selection)) return;
      let change = changes.get(selection);
      if (!change) changes.set(selection, (change = { added: [], removed: [] }));
      (added ? change.added : change.removed).push(id);
    };

    const wanted = new Map<number, Identity>();
    for (const identity of reservedIdentities()) wanted.set(identity.id, identity);
    for (const identity of identities) wanted.set(identity.id, identity);
    const gone: number[] = [];
    const arrived: Identity[] = [];
    for (const [id, known] of this.identities) {
      const next = wanted.get(id);
      if (!next) gone.push(id);
      else if (next.labels.join('\n') !== known.labelText) {
        gone.push(id);
        arrived.push(next);
      }
    }
    for (const [id, identity] of wanted) if (!this.identities.has(id)) arrived.push(identity);

    let step = 0;
    for (const id of gone) {
      for (const selection of this.selectionsOf.get(id) ?? []) {
        selection.ids.delete(id);
        note(selection, id, false);
      }
      this.selectionsOf.delete(id);
      this.forget(id);
      if (++step % STEP === 0) yield;
    }
    for (const identity of arrived) {
      const known = this.remember(identity);
      for (const selection of this.candidateSelections(known)) {
        if (this.fresh.has(selection) || !this.matches(selection, known)) continue;
        this.add(selection, known.id);
        note(selection, known.id, true);
      }
      if (++step % STEP === 0) yield;
    }

    // toFQDNs selections follow the DNS answers: their hosts, then the CIDR identities of those hosts.
    if (records !== this.dnsRecords || nowMs !== this.nowMs) {
      this.dnsRecords = records;
      this.nowMs = nowMs;
      for (const selection of this.selections.values()) {
        if (selection.peer.kind !== 'fqdn' || this.fresh.has(selection)) continue;
        const hosts = this.hostsOf(selection.peer.selector);
        if (sameSet(hosts, selection.hosts)) continue;
        selection.hosts = hosts;
        for (const id of [...selection.ids]) {
          const text = this.identities.get(id)?.prefixText;
          if (text === undefined || !hosts.has(text)) {
            this.remove(selection, id);
            note(selection, id, false);
          }
        }
        for (const text of hosts) {
          const id = this.idsByPrefixText.get(text);
          if (id !== undefined && !selection.ids.has(id)) {
            this.add(selection, id);
            note(selection, id, true);
          }
        }
        if (++step % STEP === 0) yield;
      }
    }

    for (const selection of this.fresh) {
      if (selection.peer.kind === 'fqdn') selection.hosts = this.hostsOf(selection.peer.selector);
      for (const known of this.candidateIdentities(selection)) if (this.matches(selection, known)) this.add(selection, known.id);
      if (++step % STEP === 0) yield;
    }
    this.fresh.clear();
    return [...changes].map(([selection, change]) => ({ selection, ...change }));
  }

  private setIdentitiesNow(identities: readonly Identity[]): void {
    for (const identity of identities) this.remember(identity);
  }

  private remember(identity: Identity): KnownIdentity {
    const prefix = prefixOfIdentity(identity);
    const known: KnownIdentity = {
      id: identity.id,
      labels: identity.labels.map(parseLabel),
      labelText: identity.labels.join('\n'),
      prefix,
      prefixText: prefix && formatPrefix(prefix),
    };
    this.identities.set(known.id, known);
    for (const label of known.labels) {
      this.index(this.idsByLabel, `${label.key}=${label.value}`, known.id);
      this.index(this.idsByLabel, label.key, known.id);
    }
    if (known.prefixText !== undefined) {
      this.idsByPrefixText.set(known.prefixText, known.id);
      this.sortedCidrIds = undefined;
    }
    return known;
  }

  private forget(id: number): void {
    const known = this.identities.get(id);
    if (!known) return;
    this.identities.delete(id);
    for (const label of known.labels) {
      this.unindex(this.idsByLabel, `${label.key}=${label.value}`, id);
      this.unindex(this.idsByLabel, label.key, id);
    }
    if (known.prefixText !== undefined) {
      if (this.idsByPrefixText.get(known.prefixText) === id) this.idsByPrefixText.delete(known.prefixText);
      this.sortedCidrIds = undefined;
    }
  }

  private add(selection: SelectionState, id: number): void {
    selection.ids.add(id);
    this.index(this.selectionsOf, id, selection);
  }

  private remove(selection: SelectionState, id: number): void {
    selection.ids.delete(id);
    this.selectionsOf.get(id)?.delete(selection);
  }

  /**
   * Index keys of a selection. An endpoint selector sits under one of its
   * In/Exists requirements — the one fewest identities carry now — so an
   * identity lacking that label never looks at it; a selector with none sits
   * under `*` (every identity looks). Entities sit under `entity`, CIDRs under
   * their prefix, toFQDNs selections under `fqdn`.
   */
  private anchorsOf(peer: SelectablePeer): string[] {
    switch (peer.kind) {
      case 'selector': {
        let best: string[] | undefined;
        let bestCount = Number.POSITIVE_INFINITY;
        for (const requirement of peer.selector.requirements) {
          if (requirement.operator !== 'In' && requirement.operator !== 'Exists') continue;
          const anchors = requirement.operator === 'In' ? requirement.values.map((value) => `${requirement.key}=${value}`) : [requirement.key];
          const count = anchors.reduce((n, anchor) => n + (this.idsByLabel.get(anchor)?.size ?? 0), 0);
          if (count < bestCount) [best, bestCount] = [anchors, count];
        }
        return (best ?? ['*']).map((anchor) => `label:${anchor}`);
      }
      case 'entity':
        return ['entity'];
      case 'cidr':
        return [cidrAnchor(peer.cidr)];
      case 'fqdn':
        return ['fqdn'];
    }
  }

  private candidateSelections(known: KnownIdentity): Set<SelectionState> {
    const out = new Set<SelectionState>();
    const take = (anchor: string) => {
      for (const selection of this.selectionsByAnchor.get(anchor) ?? []) out.add(selection);
    };
    take('label:*');
    take('entity');
    for (const label of known.labels) {
      take(`label:${label.key}=${label.value}`);
      take(`label:${label.key}`);
    }
    if (known.prefix) {
      for (const length of this.cidrLengths[known.prefix.family].keys()) {
        if (length <= known.prefix.length) take(`cidr:${maskedKey(known.prefix.family, known.prefix.address, length)}`);
      }
      take('fqdn');
    }
    if (known.id === ReservedIdentity.world) {
      take(`cidr:${maskedKey(4, 0n, 0)}`);
      take(`cidr:${maskedKey(6, 0n, 0)}`);
    }
    return out;
  }

  private *candidateIdentities(selection: SelectionState): Iterable<KnownIdentity> {
    const peer = selection.peer;
    switch (peer.kind) {
      case 'selector': {
        const anchor = selection.anchors[0]!;
        if (anchor === 'label:*') {
          yield* this.identities.values();
          return;
        }
        for (const key of selection.anchors) {
          for (const id of this.idsByLabel.get(key.slice('label:'.length)) ?? []) yield this.identities.get(id)!;
        }
        return;
      }
      case 'entity':
        yield* this.identities.values();
        return;
      case 'cidr': {
        if (peer.cidr.length === 0) yield this.identities.get(ReservedIdentity.world)!;
        yield* this.cidrIdentitiesWithin(peer.cidr);
        return;
      }
      case 'fqdn':
        for (const text of selection.hosts) {
          const id = this.idsByPrefixText.get(text);
          if (id !== undefined) yield this.identities.get(id)!;
        }
    }
  }

  /** CIDR identities whose prefix lies inside `outer`: a range of the address-sorted list. */
  private *cidrIdentitiesWithin(outer: Prefix): Iterable<KnownIdentity> {
    if (!this.sortedCidrIds) {
      const byFamily = { 4: [] as KnownIdentity[], 6: [] as KnownIdentity[] };
      for (const known of this.identities.values()) if (known.prefix) byFamily[known.prefix.family].push(known);
      for (const list of [byFamily[4], byFamily[6]]) list.sort((a, b) => (a.prefix!.address < b.prefix!.address ? -1 : a.prefix!.address > b.prefix!.address ? 1 : 0));
      this.sortedCidrIds = byFamily;
    }
    const list = this.sortedCidrIds[outer.family];
    const last = outer.address + (1n << BigInt(familyBits(outer.family) - outer.length)) - 1n;
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (list[middle]!.prefix!.address < outer.address) low = middle + 1;
      else high = middle;
    }
    for (let i = low; i < list.length && list[i]!.prefix!.address <= last; i++) yield list[i]!;
  }

  private matches(selection: SelectionState, known: KnownIdentity): boolean {
    this.checks++;
    const peer = selection.peer;
    switch (peer.kind) {
      case 'selector':
        return selectorMatches(peer.selector as EndpointSelector, known.labels);
      case 'entity':
        return entityMatches(peer.entity, known);
      case 'cidr': {
        if (known.id === ReservedIdentity.world) return peer.cidr.length === 0;
        const prefix = known.prefix;
        return prefix !== undefined && prefixContains(peer.cidr, prefix) && !peer.except.some((except) => prefixContains(except, prefix));
      }
      case 'fqdn':
        return known.prefixText !== undefined && selection.hosts.has(known.prefixText);
    }
  }

  private hostsOf(selector: Extract<Peer, { kind: 'fqdn' }>['selector']): Set<string> {
    const hosts = new Set<string>();
    for (const ip of fqdnAddresses(selector, this.dnsRecords, this.nowMs)) {
      const host = hostPrefix(ip);
      if (host) hosts.add(formatPrefix(host));
    }
    return hosts;
  }

  private countLength(prefix: Prefix, delta: number): void {
    const lengths = this.cidrLengths[prefix.family];
    const count = (lengths.get(prefix.length) ?? 0) + delta;
    if (count > 0) lengths.set(prefix.length, count);
    else lengths.delete(prefix.length);
  }

  private index<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(value);
  }

  private unindex<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
    const set = map.get(key);
    if (!set) return;
    set.delete(value);
    if (set.size === 0) map.delete(key);
  }
}

/** Bounded steps between two yields of an update. */
const STEP = 512;

function entityMatches(entity: Entity, known: KnownIdentity): boolean {
  switch (entity) {
    case 'all':
      return true;
    case 'cluster':
      return CLUSTER_RESERVED.has(known.id) || isClusterWorkloadIdentity(known.id);
    case 'world':
      return known.id === ReservedIdentity.world || known.prefix !== undefined;
    case 'world-ipv4':
      return known.id === ReservedIdentity.world || known.prefix?.family === 4;
    case 'world-ipv6':
      return known.id === ReservedIdentity.world || known.prefix?.family === 6;
    default:
      return FIXED_ENTITY_IDENTITIES[entity]!.includes(known.id);
  }
}

function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  if (a.size !== b.size) return false;
  for (const value of a) if (!b.has(value)) return false;
  return true;
}
