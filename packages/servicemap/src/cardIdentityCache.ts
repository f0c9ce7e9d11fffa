import type { Endpoint } from '@tycho/flow';
import { cardIdentityOf, type CardIdentity } from './cardIdentity.ts';

/** An endpoint as last seen, the card identity it gives, and a slot for the map's own use. */
export interface KnownEndpoint<Slot> {
  readonly identity: CardIdentity;
  slot: Slot | undefined;
  readonly securityIdentity: number | undefined;
  readonly namespace: string | undefined;
  readonly podName: string | undefined;
  readonly workloadName: string | undefined;
  readonly workloadKind: string | undefined;
  readonly labels: readonly string[] | undefined;
  /** The first non-empty DNS name of the flow's side: a world card is named by it. */
  readonly dnsName: string | undefined;
}

/** Entries kept before the cache starts over (pods come and go; this bounds what gone ones hold). */
const MAX_ENTRIES = 65_536;

/**
 * `cardIdentityOf` for a stream of flows, where the same endpoints come back
 * again and again: each endpoint (by pod name, or by security identity when
 * it has no pod) is remembered with every field its card identity depends on,
 * and the remembered identity is reused while those fields are unchanged.
 * The same endpoint thus yields the same `KnownEndpoint` object, which lets a
 * caller skip work it already did for it (its `slot`).
 *
 * A frozen endpoint object (the relay shares one per endpoint an agent
 * interned, frozen with everything in it) is also remembered by identity, so
 * seeing it again costs one lookup and no comparison of its fields.
 */
export class CardIdentityCache<Slot> {
  private readonly byPod = new Map<string, KnownEndpoint<Slot>>();
  private readonly byIdentity = new Map<number, KnownEndpoint<Slot>>();
  private byObject = new WeakMap<Endpoint, KnownEndpoint<Slot>>();

  lookup(endpoint: Endpoint | undefined, names: readonly string[] | undefined): KnownEndpoint<Slot> | undefined {
    if (!endpoint) return undefined;
    const dnsName = names === undefined || names.length === 0 ? undefined : firstName(names);
    const frozen = Object.isFrozen(endpoint);
    if (frozen) {
      const seen = this.byObject.get(endpoint);
      if (seen !== undefined && seen.dnsName === dnsName) return seen;
    }
    const podName = endpoint.pod_name;
    const securityIdentity = endpoint.identity;
    if (!podName && securityIdentity === undefined) return undefined;
    const table = podName ? this.byPod : this.byIdentity;
    const key = podName || securityIdentity!;
    const known = (table as Map<string | number, KnownEndpoint<Slot>>).get(key);
    if (known && sameEndpoint(known, endpoint, dnsName)) {
      if (frozen) this.byObject.set(endpoint, known);
      return known;
    }
    if (this.byPod.size + this.byIdentity.size >= MAX_ENTRIES) {
      this.byPod.clear();
      this.byIdentity.clear();
      this.byObject = new WeakMap();
    }
    const workload = endpoint.workloads?.[0];
    const entry: KnownEndpoint<Slot> = {
      identity: cardIdentityOf(endpoint, names),
      slot: undefined,
      securityIdentity,
      namespace: endpoint.namespace,
      podName,
      workloadName: workload?.name,
      workloadKind: workload?.kind,
      labels: endpoint.labels ? [...endpoint.labels] : undefined,
      dnsName,
    };
    (table as Map<string | number, KnownEndpoint<Slot>>).set(key, entry);
    if (frozen) this.byObject.set(endpoint, entry);
    return entry;
  }
}

function firstName(names: readonly string[]): string | undefined {
  for (const name of names) if (name.length > 0) return name;
  return undefined;
}

function sameEndpoint<Slot>(known: KnownEndpoint<Slot>, endpoint: Endpoint, dnsName: string | undefined): boolean {
  const workload = endpoint.workloads?.[0];
  if (
    known.securityIdentity !== endpoint.identity ||
    known.namespace !== endpoint.namespace ||
    known.podName !== endpoint.pod_name ||
    known.workloadName !== workload?.name ||
    known.workloadKind !== workload?.kind ||
    known.dnsName !== dnsName
  ) {
    return false;
  }
  const labels = endpoint.labels;
  const knownLabels = known.labels;
  if (labels === undefined || knownLabels === undefined) return labels === knownLabels;
  if (labels.length !== knownLabels.length) return false;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== knownLabels[i]) return false;
  return true;
}
