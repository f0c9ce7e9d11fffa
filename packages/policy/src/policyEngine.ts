import { formatPrefix, hostPrefix, isWholeFamily } from './cidr.ts';
import { type DnsRecord, fqdnAddresses } from './dnsCache.ts';
import { type EndpointSelector, isWildcardSelector, selectorMatches } from './endpointSelector.ts';
import type { FqdnSelector } from './fqdnSelector.ts';
import { ANY_IDENTITY, type Identity } from './identities.ts';
import { type Label, parseLabel } from './labels.ts';
import { keysOfIdentity, type PolicyMapKey } from './policyMapKeys.ts';
import { type Direction, type PeerRule, type Policy, type PolicyRef, type PortSpec, policyRefKey } from './policyModel.ts';
import type { DirectionPolicy, EndpointPolicy, NamedPort, PolicyEndpoint, PolicyEntry } from './resolvePolicy.ts';
import { peerKey, type Selection, type SelectablePeer, SelectorCache } from './selectorCache.ts';

/**
 * Incremental policy resolution for the endpoints of one node (Cilium's
 * SelectorCache + per-endpoint MapState): the result of
 * `resolveEndpointPolicies`, kept up to date with work that grows with what
 * changed, not with everything in force.
 * - A policy is taken apart into units: one per peer rule (direction,
 *   allow/deny, peers, ports), one per default-deny direction, one per
 *   selection. A policy applied again only adds and removes the units
 *   whose content changed; the same Policy object again costs nothing.
 * - Peers are selections of the SelectorCache, updated per identity change.
 * - Each endpoint direction keeps its merged entries and its policy-map keys
 *   per remote identity; only identities whose entries changed get new keys
 *   (a change to identity 0's entries touches every identity: its keys are
 *   repeated under each).
 * `update` is a generator that yields between bounded steps, so a long
 * resolution can give way to other work (the agent's observer) between them.
 */

export interface PolicyEngineInputs {
  readonly policies: readonly Policy[];
  /** Workload identities (and CIDR identities when `cidrIdentities` is not given); reserved ones are added. */
  readonly identities: readonly Identity[];
  readonly endpoints: readonly PolicyEndpoint[];
  /** DNS answers seen (toFQDNs); expired records are ignored. */
  readonly dnsRecords?: readonly DnsRecord[];
  /** Epoch milliseconds; decides which DNS records are live. */
  readonly nowMs: number;
  /** Named ports of every pod in the cluster (named ports of egress rules). */
  readonly clusterNamedPorts?: readonly NamedPort[];
  /**
   * Called once the policies are taken in, with the prefixes that need CIDR
   * identities (canonical CIDR text: every CIDR of a rule but /0, every live
   * toFQDNs answer as /32 or /128); the identities it returns join `identities`.
   */
  readonly cidrIdentities?: (prefixes: readonly string[]) => readonly Identity[];
}

export interface DirectionChange {
  readonly endpointId: number;
  readonly direction: Direction;
}

export interface PolicyEngineChanges {
  /** Endpoint directions whose flags or keys changed (every direction of a new endpoint). */
  readonly changed: readonly DirectionChange[];
  /** Endpoints that went away. */
  readonly removed: readonly number[];
}

/** How much work the engine did, all updates together (tests and benchmarks read it). */
export interface PolicyEngineWork {
  /** Peer rules applied in full to an endpoint (a new rule, or every rule of a new endpoint). */
  readonly ruleEvaluations: number;
  /** Identity changes of a selection passed on to a rule using it. */
  readonly ruleIdentityChanges: number;
  /** (identity, selection) pairs checked by the SelectorCache. */
  readonly selectorChecks: number;
  /** Remote identities whose policy-map keys were computed again. */
  readonly keyComputations: number;
}

interface PortEntry {
  readonly protocol: number;
  readonly port: number;
  readonly endPort: number;
  readonly dns: readonly FqdnSelector[] | undefined;
}

interface Subject {
  readonly key: string;
  readonly selector: EndpointSelector;
  readonly endpoints: Set<number>;
  readonly units: Set<Unit>;
}

interface UnitBase {
  readonly key: string;
  readonly ref: PolicyRef;
  readonly refKey: string;
  readonly subject: Subject;
  users: number;
  /** Taken in but not applied to endpoints yet (its selections are evaluated first). */
  pending: boolean;
}

interface SelectUnit extends UnitBase {
  readonly kind: 'select';
}

interface EnforceUnit extends UnitBase {
  readonly kind: 'enforce';
  readonly direction: Direction;
}

interface PeerUnit extends UnitBase {
  readonly kind: 'peers';
  readonly direction: Direction;
  readonly deny: boolean;
  readonly rule: PeerRule;
  /** The peers' selections; 'any' = identity 0 only; 'none' = selects nothing. */
  readonly selections: readonly Selection[] | 'any' | 'none';
  /** Remote identity → how many of its selections hold it. */
  readonly identityCounts: Map<number, number>;
  /** Resolved ports; undefined when they depend on the endpoint (named ports of an ingress rule). */
  ports: readonly PortEntry[] | undefined;
}

type Unit = SelectUnit | EnforceUnit | PeerUnit;

interface MergedEntry {
  readonly identity: number;
  readonly protocol: number;
  readonly port: number;
  readonly endPort: number;
  readonly deny: boolean;
  /** Every rule producing it, with the DNS rules of each occurrence. */
  readonly contributors: Map<PeerUnit, (readonly FqdnSelector[] | undefined)[]>;
  materialized: PolicyEntry | undefined;
}

interface DirectionState {
  readonly entries: Map<string, MergedEntry>;
  readonly byIdentity: Map<number, Set<MergedEntry>>;
  readonly enforcedBy: Map<string, { ref: PolicyRef; count: number }>;
  /** Remote identities whose keys must be computed again. */
  readonly dirty: Set<number>;
  /** Policy-map keys per remote identity. */
  readonly keys: Map<number, readonly PolicyMapKey[]>;
  /** What the keys were computed with. */
  computedEnforced: boolean;
  computedImplicitAllow: boolean;
  changed: boolean;
}

interface EndpointState {
  readonly endpoint: PolicyEndpoint;
  readonly labels: readonly Label[];
  readonly signature: string;
  readonly selectedBy: Map<string, { ref: PolicyRef; count: number }>;
  readonly ingress: DirectionState;
  readonly egress: DirectionState;
  snapshot: EndpointPolicy | undefined;
}

/** IANA protocol numbers of the port protocols. */
const PROTOCOL_NUMBER = { ANY: 0, TCP: 6, UDP: 17, SCTP: 132 } as const;
const ALL_PORTS: readonly PortEntry[] = [{ protocol: 0, port: 0, endPort: 0, dns: undefined }];
const DIRECTIONS = ['ingress', 'egress'] as const;
/** Bounded steps between two yields of an update. */
const STEP = 256;

export class PolicyEngine {
  private readonly selectors = new SelectorCache();
  private readonly subjects = new Map<string, Subject>();
  private readonly units = new Map<string, Unit>();
  private readonly unitsBySelection = new Map<string, Set<PeerUnit>>();
  /** Per policy (by kind/namespace/name): the object last taken in and its unit keys with their counts. */
  private readonly policies = new Map<string, { policy: Policy; units: Map<string, number> }>();
  private readonly endpoints = new Map<number, EndpointState>();
  /** CIDR text → how many units name it. */
  private readonly cidrCounts = new Map<string, number>();
  private readonly fqdnUnits = new Set<PeerUnit>();
  private clusterNamedPorts: readonly NamedPort[] = [];
  private clusterNamedPortsText = '[]';
  private pendingUnits: Unit[] = [];
  private work = { ruleEvaluations: 0, ruleIdentityChanges: 0, keyComputations: 0 };
  private running = false;

  get stats(): PolicyEngineWork {
    return { ...this.work, selectorChecks: this.selectors.checks };
  }

  /** Brings the state to `inputs`; returns the directions to write. Not re-entrant: finish one update before the next. */
  *update(inputs: PolicyEngineInputs): Generator<void, PolicyEngineChanges> {
    if (this.running) throw new Error('PolicyEngine.update: an update is already running');
    this.running = true;
    try {
      return yield* this.runUpdate(inputs);
    } finally {
      this.running = false;
    }
  }

  /** Runs an update to the end without giving way (for one-off resolutions). */
  updateNow(inputs: PolicyEngineInputs): PolicyEngineChanges {
    const steps = this.update(inputs);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /** The resolved policy of an endpoint, as `resolveEndpointPolicies` gives it. */
  policyOf(endpointId: number): EndpointPolicy | undefined {
    const state = this.endpoints.get(endpointId);
    if (!state) return undefined;
    state.snapshot ??= snapshotOf(state);
    return state.snapshot;
  }

  endpointIds(): number[] {
    return [...this.endpoints.keys()];
  }

  /** One direction's flags and keys, for the datapath. */
  directionState(endpointId: number, direction: Direction): { enforced: boolean; needsLookup: boolean; keys: PolicyMapKey[] } | undefined {
    const state = this.endpoints.get(endpointId)?.[direction];
    if (!state) return undefined;
    const enforced = state.enforcedBy.size > 0;
    return { enforced, needsLookup: enforced || state.entries.size > 0, keys: [...state.keys.values()].flat() };
  }

  private *runUpdate(inputs: PolicyEngineInputs): Generator<void, PolicyEngineChanges> {
    const removed: number[] = [];
    const added: PolicyEndpoint[] = [];
    // Endpoints that went or changed leave first (a changed one comes back whole at the end).
    const wantedEndpoints = new Map(inputs.endpoints.map((endpoint) => [endpoint.id, endpoint]));
    for (const [id, state] of this.endpoints) {
      const next = wantedEndpoints.get(id);
      if (next && endpointSignature(next) === state.signature) continue;
      this.dropEndpoint(id);
      if (!next) removed.push(id);
    }
    for (const endpoint of inputs.endpoints) if (!this.endpoints.has(endpoint.id)) added.push(endpoint);

    const namedPortsText = JSON.stringify(inputs.clusterNamedPorts ?? []);
    if (namedPortsText !== this.clusterNamedPortsText) {
      this.clusterNamedPorts = inputs.clusterNamedPorts ?? [];
      this.clusterNamedPortsText = namedPortsText;
      yield* this.reapplyEgressNamedPorts();
    }

    yield* this.takePolicies(inputs.policies);

    const records = inputs.dnsRecords ?? [];
    const cidrIdentities = inputs.cidrIdentities?.(this.requiredCidrs(records, inputs.nowMs)) ?? [];
    const identities = cidrIdentities.length > 0 ? [...inputs.identities, ...cidrIdentities] : inputs.identities;
    const selectionChanges = yield* this.selectors.update(identities, records, inputs.nowMs);

    let step = 0;
    for (const change of selectionChanges) {
      for (const unit of this.unitsBySelection.get(change.selection.key) ?? []) {
        if (unit.pending) continue;
        const gained: number[] = [];
        const lost: number[] = [];
        for (const id of change.added) {
          const count = (unit.identityCounts.get(id) ?? 0) + 1;
          unit.identityCounts.set(id, count);
          if (count === 1) gained.push(id);
        }
        for (const id of change.removed) {
          const count = (unit.identityCounts.get(id) ?? 0) - 1;
          if (count > 0) unit.identityCounts.set(id, count);
          else {
            unit.identityCounts.delete(id);
            lost.push(id);
          }
        }
        this.work.ruleIdentityChanges += gained.length + lost.length;
        for (const endpointId of unit.subject.endpoints) {
          const state = this.endpoints.get(endpointId)!;
          this.applyEntries(state, unit, lost, -1);
          this.applyEntries(state, unit, gained, 1);
        }
        if (++step % STEP === 0) yield;
      }
    }

    for (const unit of this.pendingUnits) {
      if (this.units.get(unit.key) !== unit) continue;
      unit.pending = false;
      if (unit.kind === 'peers') this.evaluate(unit);
      for (const endpointId of unit.subject.endpoints) this.applyUnit(this.endpoints.get(endpointId)!, unit, 1);
      if (++step % STEP === 0) yield;
    }
    this.pendingUnits = [];

    for (const endpoint of added) {
      const state = newEndpointState(endpoint);
      this.endpoints.set(endpoint.id, state);
      for (const subject of this.subjects.values()) {
        if (!selectorMatches(subject.selector, state.labels)) continue;
        subject.endpoints.add(endpoint.id);
        for (const unit of subject.units) {
          this.applyUnit(state, unit, 1);
          if (++step % STEP === 0) yield;
        }
      }
    }

    const changed: DirectionChange[] = [];
    const addedIds = new Set(added.map((endpoint) => endpoint.id));
    for (const [endpointId, state] of this.endpoints) {
      for (const direction of DIRECTIONS) {
        yield* this.computeKeys(state[direction], direction);
        if (state[direction].changed || addedIds.has(endpointId)) {
          state[direction].changed = false;
          state.snapshot = undefined;
          changed.push({ endpointId, direction });
        }
      }
    }
    return { changed, removed };
  }

  /** The prefixes that need CIDR identities now (see PolicyEngineInputs.cidrIdentities). */
  private requiredCidrs(records: readonly DnsRecord[], nowMs: number): string[] {
    const out = new Set(this.cidrCounts.keys());
    for (const unit of this.fqdnUnits) {
      for (const peer of unit.rule.peers ?? []) {
        if (peer.kind !== 'fqdn') continue;
        for (const ip of fqdnAddresses(peer.selector, records, nowMs)) {
          const host = hostPrefix(ip);
          if (host) out.add(formatPrefix(host));
        }
      }
    }
    return [...out].sort();
  }

  private *takePolicies(policies: readonly Policy[]): Generator<void> {
    const seen = new Set<string>();
    let step = 0;
    for (const policy of policies) {
      const refKey = policyRefKey(policy.ref);
      seen.add(refKey);
      const before = this.policies.get(refKey);
      if (before?.policy === policy) continue;
      const units = new Map<string, number>();
      const wanted = new Map<string, () => Unit>();
      for (const rule of policy.rules) {
        const subjectKey = JSON.stringify(rule.subject);
        const want = (key: string, make: (subject: Subject) => Unit) => {
          units.set(key, (units.get(key) ?? 0) + 1);
          if (!wanted.has(key)) wanted.set(key, () => make(this.subjectOf(subjectKey, rule.subject)));
        };
        const base = (key: string) => ({ key, ref: policy.ref, refKey, users: 0, pending: true });
        want(`select\n${refKey}\n${subjectKey}`, (subject) => ({ ...base(`select\n${refKey}\n${subjectKey}`), subject, kind: 'select' }));
        for (const direction of DIRECTIONS) {
          if (rule.defaultDeny[direction]) {
            const key = `enforce\n${refKey}\n${subjectKey}\n${direction}`;
            want(key, (subject) => ({ ...base(key), subject, kind: 'enforce', direction }));
          }
          const lists = direction === 'ingress' ? [rule.ingress, rule.ingressDeny] : [rule.egress, rule.egressDeny];
          for (const [index, peerRules] of lists.entries()) {
            const deny = index === 1;
            for (const peerRule of peerRules) {
              const peerKeys = peerRule.peers?.map((peer) => (isWildcardPeer(peer) ? '*' : peerKey(peer as SelectablePeer)));
              const key = `peers\n${refKey}\n${subjectKey}\n${direction}\n${deny}\n${peerKeys?.join('\n') ?? '-'}\n${JSON.stringify(peerRule.ports)}`;
              want(key, (subject) => this.newPeerUnit(base(key), subject, direction, deny, peerRule, peerKeys));
              if (++step % STEP === 0) yield;
            }
          }
        }
      }
      yield* this.changeUnits(before?.units ?? new Map(), units, wanted);
      this.policies.set(refKey, { policy, units });
    }
    for (const [refKey, before] of [...this.policies]) {
      if (seen.has(refKey)) continue;
      yield* this.changeUnits(before.units, new Map(), new Map());
      this.policies.delete(refKey);
    }
  }

  /** Moves the unit counts of one policy from `before` to `after`, creating and removing units. */
  private *changeUnits(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, makers: ReadonlyMap<string, () => Unit>): Generator<void> {
    let step = 0;
    for (const [key, count] of before) {
      const delta = (after.get(key) ?? 0) - count;
      if (delta < 0) this.releaseUnit(key, -delta);
      if (++step % STEP === 0) yield;
    }
    for (const [key, count] of after) {
      const delta = count - (before.get(key) ?? 0);
      if (delta <= 0) continue;
      let unit = this.units.get(key);
      if (!unit) {
        unit = makers.get(key)!();
        this.units.set(key, unit);
        unit.subject.units.add(unit);
        this.pendingUnits.push(unit);
      }
      unit.users += delta;
      if (++step % STEP === 0) yield;
    }
  }

  private releaseUnit(key: string, count: number): void {
    const unit = this.units.get(key);
    if (!unit) return;
    unit.users -= count;
    if (unit.users > 0) return;
    this.units.delete(key);
    if (!unit.pending) for (const endpointId of unit.subject.endpoints) this.applyUnit(this.endpoints.get(endpointId)!, unit, -1);
    unit.subject.units.delete(unit);
    if (unit.subject.units.size === 0) this.subjects.delete(unit.subject.key);
    if (unit.kind !== 'peers') return;
    if (unit.selections !== 'any' && unit.selections !== 'none') {
      for (const selection of unit.selections) {
        this.unitsBySelection.get(selection.key)?.delete(unit);
        this.selectors.release(selection);
      }
    }
    for (const prefix of cidrTextsOf(unit.rule)) {
      const left = (this.cidrCounts.get(prefix) ?? 0) - 1;
      if (left > 0) this.cidrCounts.set(prefix, left);
      else this.cidrCounts.delete(prefix);
    }
    this.fqdnUnits.delete(unit);
  }

  private subjectOf(key: string, selector: Subject['selector']): Subject {
    let subject = this.subjects.get(key);
    if (!subject) {
      subject = { key, selector, endpoints: new Set(), units: new Set() };
      for (const state of this.endpoints.values()) if (selectorMatches(selector, state.labels)) subject.endpoints.add(state.endpoint.id);
      this.subjects.set(key, subject);
    }
    return subject;
  }

  private newPeerUnit(base: Omit<UnitBase, 'subject'>, subject: Subject, direction: Direction, deny: boolean, rule: PeerRule, peerKeys: readonly string[] | undefined): PeerUnit {
    let selections: PeerUnit['selections'];
    if (rule.peers === undefined || peerKeys === undefined) selections = rule.ports.length > 0 ? 'any' : 'none';
    else if (peerKeys.includes('*')) selections = 'any';
    else selections = rule.peers.map((peer, i) => this.selectors.acquire(peer as SelectablePeer, peerKeys[i]));
    const unit: PeerUnit = {
      key: base.key,
      ref: base.ref,
      refKey: base.refKey,
      users: 0,
      pending: true,
      subject,
      kind: 'peers',
      direction,
      deny,
      rule,
      selections,
      identityCounts: new Map(),
      ports: undefined,
    };
    if (selections !== 'any' && selections !== 'none') {
      for (const selection of selections) {
        let users = this.unitsBySelection.get(selection.key);
        if (!users) this.unitsBySelection.set(selection.key, (users = new Set()));
        users.add(unit);
      }
    }
    for (const prefix of cidrTextsOf(rule)) this.cidrCounts.set(prefix, (this.cidrCounts.get(prefix) ?? 0) + 1);
    if (rule.peers?.some((peer) => peer.kind === 'fqdn')) this.fqdnUnits.add(unit);
    return unit;
  }

  /** Computes a new rule's remote identities and ports from its (now evaluated) selections. */
  private evaluate(unit: PeerUnit): void {
    unit.identityCounts.clear();
    if (unit.selections === 'any') unit.identityCounts.set(ANY_IDENTITY, 1);
    else if (unit.selections !== 'none') {
      for (const selection of unit.selections) for (const id of selection.ids) unit.identityCounts.set(id, (unit.identityCounts.get(id) ?? 0) + 1);
    }
    const endpointDependent = unit.direction === 'ingress' && unit.rule.ports.some((spec) => typeof spec.port === 'string');
    unit.ports = endpointDependent ? undefined : this.portsOf(unit, undefined);
  }

  private portsOf(unit: PeerUnit, endpoint: PolicyEndpoint | undefined): readonly PortEntry[] {
    if (unit.rule.ports.length === 0) return ALL_PORTS;
    const named = unit.direction === 'ingress' ? (endpoint?.namedPorts ?? []) : this.clusterNamedPorts;
    return unit.rule.ports.flatMap((spec) => portEntriesOf(spec, named));
  }

  /** Rules with named egress ports take the cluster's named ports when applied: apply them again with the new ones. */
  private *reapplyEgressNamedPorts(): Generator<void> {
    for (const unit of this.units.values()) {
      if (unit.kind !== 'peers' || unit.pending || unit.direction !== 'egress' || !unit.rule.ports.some((spec) => typeof spec.port === 'string')) continue;
      for (const endpointId of unit.subject.endpoints) this.applyUnit(this.endpoints.get(endpointId)!, unit, -1);
      unit.pending = true;
      this.pendingUnits.push(unit);
      yield;
    }
  }

  private applyUnit(state: EndpointState, unit: Unit, sign: 1 | -1): void {
    state.snapshot = undefined;
    switch (unit.kind) {
      case 'select':
        countRef(state.selectedBy, unit.refKey, unit.ref, sign);
        return;
      case 'enforce':
        countRef(state[unit.direction].enforcedBy, unit.refKey, unit.ref, sign);
        state[unit.direction].changed = true;
        return;
      case 'peers':
        if (sign > 0) this.work.ruleEvaluations++;
        this.applyEntries(state, unit, unit.identityCounts.keys(), sign);
    }
  }

  /** Adds (sign 1) or removes (-1) the entries of `unit` for the remote identities `ids` at one endpoint. */
  private applyEntries(state: EndpointState, unit: PeerUnit, ids: Iterable<number>, sign: 1 | -1): void {
    const direction = state[unit.direction];
    const ports = unit.ports ?? this.portsOf(unit, state.endpoint);
    for (const identity of ids) {
      for (const port of ports) {
        const key = `${identity}/${port.protocol}/${port.port}-${port.endPort}/${unit.deny}`;
        let entry = direction.entries.get(key);
        if (sign > 0) {
          if (!entry) {
            entry = { identity, protocol: port.protocol, port: port.port, endPort: port.endPort, deny: unit.deny, contributors: new Map(), materialized: undefined };
            direction.entries.set(key, entry);
            let group = direction.byIdentity.get(identity);
            if (!group) direction.byIdentity.set(identity, (group = new Set()));
            group.add(entry);
          }
          const occurrences = entry.contributors.get(unit);
          if (occurrences) occurrences.push(port.dns);
          else entry.contributors.set(unit, [port.dns]);
        } else {
          const occurrences = entry?.contributors.get(unit);
          if (!entry || !occurrences) continue;
          const at = occurrences.indexOf(port.dns);
          occurrences.splice(at < 0 ? occurrences.length - 1 : at, 1);
          if (occurrences.length === 0) entry.contributors.delete(unit);
          if (entry.contributors.size === 0) {
            direction.entries.delete(key);
            const group = direction.byIdentity.get(identity)!;
            group.delete(entry);
            if (group.size === 0) direction.byIdentity.delete(identity);
          }
        }
        entry.materialized = undefined;
        direction.dirty.add(identity);
      }
    }
  }

  /** New keys for the remote identities whose entries changed (all of them when identity 0's or the flags did). */
  private *computeKeys(state: DirectionState, direction: Direction): Generator<void> {
    const enforced = state.enforcedBy.size > 0;
    const implicitAllow = !enforced && state.entries.size > 0;
    const everything = state.dirty.has(ANY_IDENTITY) || enforced !== state.computedEnforced || implicitAllow !== state.computedImplicitAllow;
    if (enforced !== state.computedEnforced) state.changed = true;
    state.computedEnforced = enforced;
    state.computedImplicitAllow = implicitAllow;
    const identities = everything ? new Set([...state.byIdentity.keys(), ...state.keys.keys(), ANY_IDENTITY]) : state.dirty;
    if (identities.size === 0) return;
    const wildcard = sortedEntries(state.byIdentity.get(ANY_IDENTITY));
    // Deny rules where default deny is off: everything else stays allowed.
    if (implicitAllow) wildcard.push({ identity: ANY_IDENTITY, protocol: 0, port: 0, endPort: 0, deny: false, policies: [] });
    let step = 0;
    for (const identity of identities) {
      this.work.keyComputations++;
      const own = identity === ANY_IDENTITY ? wildcard : sortedEntries(state.byIdentity.get(identity));
      const keys = own.length === 0 ? [] : keysOfIdentity(direction, identity, own, identity === ANY_IDENTITY ? [] : wildcard);
      const before = state.keys.get(identity) ?? [];
      if (!sameKeys(before, keys)) {
        if (keys.length > 0) state.keys.set(identity, keys);
        else state.keys.delete(identity);
        state.changed = true;
      }
      if (++step % STEP === 0) yield;
    }
    state.dirty.clear();
  }

  private dropEndpoint(endpointId: number): void {
    this.endpoints.delete(endpointId);
    for (const subject of this.subjects.values()) subject.endpoints.delete(endpointId);
  }
}

function isWildcardPeer(peer: PeerRule['peers'] extends readonly (infer P)[] | undefined ? P : never): boolean {
  return (peer.kind === 'selector' && isWildcardSelector(peer.selector)) || (peer.kind === 'entity' && peer.entity === 'all');
}

function newDirectionState(): DirectionState {
  return { entries: new Map(), byIdentity: new Map(), enforcedBy: new Map(), dirty: new Set(), keys: new Map(), computedEnforced: false, computedImplicitAllow: false, changed: false };
}

function newEndpointState(endpoint: PolicyEndpoint): EndpointState {
  return {
    endpoint,
    labels: endpoint.labels.map(parseLabel),
    signature: endpointSignature(endpoint),
    selectedBy: new Map(),
    ingress: newDirectionState(),
    egress: newDirectionState(),
    snapshot: undefined,
  };
}

function endpointSignature(endpoint: PolicyEndpoint): string {
  return JSON.stringify([endpoint.identity, endpoint.labels, endpoint.namedPorts ?? []]);
}

function countRef(refs: Map<string, { ref: PolicyRef; count: number }>, key: string, ref: PolicyRef, sign: 1 | -1): void {
  const count = (refs.get(key)?.count ?? 0) + sign;
  if (count > 0) refs.set(key, { ref, count });
  else refs.delete(key);
}

function sortedRefs(refs: Iterable<[string, PolicyRef]>): PolicyRef[] {
  return [...refs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ref]) => ref);
}

function materialize(entry: MergedEntry): PolicyEntry {
  if (entry.materialized) return entry.materialized;
  const refs = new Map<string, PolicyRef>();
  let dns: FqdnSelector[] | undefined = [];
  for (const [unit, occurrences] of entry.contributors) {
    refs.set(unit.refKey, unit.ref);
    for (const rules of occurrences) {
      // An entry without DNS rules allows every query, so it wins over DNS-restricted ones.
      if (rules === undefined) dns = undefined;
      else dns?.push(...rules);
    }
  }
  entry.materialized = { identity: entry.identity, protocol: entry.protocol, port: entry.port, endPort: entry.endPort, deny: entry.deny, policies: sortedRefs(refs), dns };
  return entry.materialized;
}

/** Deny first, then by identity, protocol and port range: the order `resolveEndpointPolicies` gives. */
function compareEntries(a: PolicyEntry, b: PolicyEntry): number {
  return Number(b.deny) - Number(a.deny) || a.identity - b.identity || a.protocol - b.protocol || a.port - b.port || a.endPort - b.endPort;
}

function sortedEntries(group: Iterable<MergedEntry> | undefined): PolicyEntry[] {
  return group === undefined ? [] : [...group].map(materialize).sort(compareEntries);
}

function snapshotOf(state: EndpointState): EndpointPolicy {
  const direction = (d: DirectionState): DirectionPolicy => {
    const enforcedBy = sortedRefs([...d.enforcedBy].map(([key, { ref }]) => [key, ref]));
    return { enforced: enforcedBy.length > 0, enforcedBy, entries: [...d.entries.values()].map(materialize).sort(compareEntries) };
  };
  return {
    endpointId: state.endpoint.id,
    identity: state.endpoint.identity,
    selectedBy: sortedRefs([...state.selectedBy].map(([key, { ref }]) => [key, ref])),
    ingress: direction(state.ingress),
    egress: direction(state.egress),
  };
}

function sameKeys(a: readonly PolicyMapKey[], b: readonly PolicyMapKey[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    return (
      x.identity === y.identity &&
      x.protocol === y.protocol &&
      x.port === y.port &&
      x.prefixLen === y.prefixLen &&
      x.deny === y.deny &&
      x.policies.length === y.policies.length &&
      x.policies.every((ref, j) => policyRefKey(ref) === policyRefKey(y.policies[j]!))
    );
  });
}

/** The CIDR texts of a rule that need CIDR identities (every CIDR and except, /0 aside: that is world). */
function cidrTextsOf(rule: PeerRule): string[] {
  const out: string[] = [];
  for (const peer of rule.peers ?? []) {
    if (peer.kind !== 'cidr') continue;
    for (const prefix of [peer.cidr, ...peer.except]) if (!isWholeFamily(prefix)) out.push(formatPrefix(prefix));
  }
  return out;
}

function portEntriesOf(spec: PortSpec, named: readonly NamedPort[]): PortEntry[] {
  const protocol = PROTOCOL_NUMBER[spec.protocol];
  if (typeof spec.port === 'number') return [{ protocol, port: spec.port, endPort: spec.port === 0 ? 0 : spec.endPort, dns: spec.dns }];
  // Named ports: an ingress rule names a port of the endpoint itself, an egress rule a port of its peers.
  const out = new Map<string, PortEntry>();
  for (const candidate of named) {
    if (candidate.name !== spec.port || (spec.protocol !== 'ANY' && spec.protocol !== candidate.protocol)) continue;
    const number = PROTOCOL_NUMBER[candidate.protocol];
    out.set(`${number}/${candidate.port}`, { protocol: number, port: candidate.port, endPort: candidate.port, dns: spec.dns });
  }
  return [...out.values()];
}
