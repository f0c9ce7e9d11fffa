// Numeric security identities for label sets, agreed on by every agent through the Kubernetes
// API: each identity is a cluster-scoped cilium.io/v2 CiliumIdentity named by its number, its
// labels in `security-labels` (`k8s:app` → `web`, as Cilium writes them), created with
// create-if-absent semantics (POST, 409 AlreadyExists when the number is taken).
//
// Agreement: every allocator tries the numbers in the same order (from 256 up) and stops at the
// first one that is free or already holds its label set. Creation is atomic on the server and
// an identity's labels never change, so two agents racing for one label set stop at the same
// number: whoever creates it first wins, the other gets 409, reads it back and adopts it. This
// holds as long as identities are not deleted while in use (a garbage collector must only remove
// identities no endpoint has used for a while, as Cilium's operator does).
import { createHash } from 'node:crypto';

import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';

import { apiRequest, KubeApiError } from './apiRequest.ts';
import type { BackoffOptions } from './backoff.ts';
import { createInformer } from './informer.ts';

/** Identities below this are Cilium's reserved ones (host, world, …). */
export const MIN_CLUSTER_IDENTITY = 256;
/** Cilium's default top of the cluster-wide identity range. */
export const MAX_CLUSTER_IDENTITY = 65_535;

/** The label that carries a digest of `security-labels`, so an identity can be found by label selector. */
export const SECURITY_LABELS_DIGEST_LABEL = 'tycho.io/security-labels-sha256';
const NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';

const identitiesPath = '/apis/cilium.io/v2/ciliumidentities';

export interface CiliumIdentityObject extends KubernetesObject {
  'security-labels'?: Record<string, string>;
}

const identitySchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().regex(/^[1-9]\d*$/) }),
  'security-labels': z.record(z.string(), z.string()),
});

const identityListSchema = z.looseObject({ items: z.array(z.unknown()).nullable().optional() });

export interface IdentityRecord {
  identity: number;
  /** `source:key=value` labels, sorted. */
  labels: string[];
}

export interface IdentityAllocatorOptions {
  kubeConfig: KubeConfig;
  minIdentity?: number;
  maxIdentity?: number;
  backoff?: Partial<BackoffOptions>;
  onError?: (error: Error, retryInMs: number) => void;
}

/** `k8s:app=web` → [`k8s:app`, `web`]; a label without `=` has the empty value. */
function securityLabelsOf(labels: readonly string[]): Record<string, string> {
  const entries = labels.map((label): [string, string] => {
    const separator = label.indexOf('=');
    return separator < 0 ? [label, ''] : [label.slice(0, separator), label.slice(separator + 1)];
  });
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function labelsOfSecurityLabels(securityLabels: Record<string, string>): string[] {
  return Object.entries(securityLabels)
    .map(([key, value]) => (value === '' ? key : `${key}=${value}`))
    .sort();
}

/** One string per label set, whatever the order its labels came in. */
function labelSetKey(securityLabels: Record<string, string>): string {
  return JSON.stringify(Object.entries(securityLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function digestOf(key: string): string {
  // A label value holds at most 63 characters: 40 hex digits (160 bits) of the SHA-256.
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

export class IdentityAllocationError extends Error {
  override readonly name = 'IdentityAllocationError';
}

export function createIdentityAllocator(options: IdentityAllocatorOptions) {
  const minIdentity = options.minIdentity ?? MIN_CLUSTER_IDENTITY;
  const maxIdentity = options.maxIdentity ?? MAX_CLUSTER_IDENTITY;
  const informer = createInformer<CiliumIdentityObject>({
    kubeConfig: options.kubeConfig,
    path: identitiesPath,
    name: 'ciliumidentities',
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  /** Label-set key → the numbers that carry it (normally one). */
  const numbersByKey = new Map<string, Set<number>>();
  const pending = new Map<string, Promise<number>>();

  function parsed(object: unknown): { identity: number; securityLabels: Record<string, string> } | undefined {
    const checked = identitySchema.safeParse(object);
    if (!checked.success) return undefined;
    return { identity: Number(checked.data.metadata.name), securityLabels: checked.data['security-labels'] };
  }

  function index(object: CiliumIdentityObject, present: boolean): void {
    const identity = parsed(object);
    if (!identity) return;
    const key = labelSetKey(identity.securityLabels);
    const numbers = numbersByKey.get(key) ?? new Set<number>();
    if (present) numbers.add(identity.identity);
    else numbers.delete(identity.identity);
    if (numbers.size > 0) numbersByKey.set(key, numbers);
    else numbersByKey.delete(key);
  }

  informer.subscribe((event) => {
    if (event.type === 'add') index(event.object, true);
    else if (event.type === 'update') {
      index(event.previous, false);
      index(event.object, true);
    } else if (event.type === 'delete') index(event.object, false);
  });

  function lowest(numbers: Iterable<number> | undefined): number | undefined {
    let found: number | undefined;
    for (const number of numbers ?? []) if (found === undefined || number < found) found = number;
    return found;
  }

  function cachedKeyOf(identity: number): string | undefined {
    const object = parsed(informer.get('', String(identity)));
    return object ? labelSetKey(object.securityLabels) : undefined;
  }

  async function read(identity: number): Promise<{ identity: number; securityLabels: Record<string, string> } | undefined> {
    try {
      const object = parsed(await apiRequest(options.kubeConfig, { method: 'GET', path: `${identitiesPath}/${identity}` }));
      if (!object) throw new IdentityAllocationError(`CiliumIdentity ${identity} has no security-labels map: it was not written by an identity allocator`);
      return object;
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  /** An identity the server already holds for the label set (the cache may not have seen it yet). */
  async function lookUp(key: string, digest: string): Promise<number | undefined> {
    const list = identityListSchema.parse(await apiRequest(options.kubeConfig, { method: 'GET', path: identitiesPath, query: { labelSelector: `${SECURITY_LABELS_DIGEST_LABEL}=${digest}` } }));
    const numbers = (list.items ?? []).map(parsed).filter((object) => object !== undefined && labelSetKey(object.securityLabels) === key);
    return lowest(numbers.map((object) => object?.identity ?? 0));
  }

  async function allocate(securityLabels: Record<string, string>, key: string): Promise<number> {
    const digest = digestOf(key);
    const found = await lookUp(key, digest);
    if (found !== undefined) return found;
    const labels: Record<string, string> = { [SECURITY_LABELS_DIGEST_LABEL]: digest };
    const namespace = securityLabels[`k8s:${NAMESPACE_LABEL}`];
    if (namespace) labels[NAMESPACE_LABEL] = namespace;
    let retried = false;
    for (let identity = minIdentity; identity <= maxIdentity; identity += 1) {
      const occupant = cachedKeyOf(identity);
      // An identity's labels never change: a number the cache knows to hold another label set is not free.
      if (occupant !== undefined && occupant !== key) continue;
      try {
        await apiRequest(options.kubeConfig, {
          method: 'POST',
          path: identitiesPath,
          body: { apiVersion: 'cilium.io/v2', kind: 'CiliumIdentity', metadata: { name: String(identity), labels }, 'security-labels': securityLabels },
        });
        return identity;
      } catch (error) {
        if (!(error instanceof KubeApiError && error.code === 409)) throw error;
      }
      const winner = await read(identity);
      if (winner && labelSetKey(winner.securityLabels) === key) return identity;
      // Deleted between our create and read: the number is free again, try it once more.
      if (!winner && !retried) {
        retried = true;
        identity -= 1;
      } else retried = false;
    }
    throw new IdentityAllocationError(`no free identity between ${minIdentity} and ${maxIdentity} for ${labelsOfSecurityLabels(securityLabels).join(',')}`);
  }

  /** The identity of a label set (`k8s:app=web`, …), allocating one if no agent has yet. */
  async function identityFor(labels: readonly string[]): Promise<number> {
    const securityLabels = securityLabelsOf(labels);
    const key = labelSetKey(securityLabels);
    await informer.synced;
    const cached = lowest(numbersByKey.get(key));
    if (cached !== undefined) return cached;
    const inFlight = pending.get(key);
    if (inFlight) return inFlight;
    const allocation = allocate(securityLabels, key).finally(() => pending.delete(key));
    pending.set(key, allocation);
    return allocation;
  }

  return {
    identityFor,
    /** The labels of an identity any agent allocated, from the cache; undefined if unknown. */
    labelsOf(identity: number): string[] | undefined {
      const object = parsed(informer.get('', String(identity)));
      return object ? labelsOfSecurityLabels(object.securityLabels) : undefined;
    },
    /** Every identity in the cache, by number. */
    list(): IdentityRecord[] {
      return informer
        .list()
        .map(parsed)
        .filter((object) => object !== undefined)
        .map((object) => ({ identity: object.identity, labels: labelsOfSecurityLabels(object.securityLabels) }))
        .sort((a, b) => a.identity - b.identity);
    },
    /** The informer over CiliumIdentity objects, for handlers that follow other agents' allocations. */
    informer,
    synced: informer.synced,
    close: () => informer.close(),
  } as const;
}

export type IdentityAllocator = ReturnType<typeof createIdentityAllocator>;
