import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterInformers, ClusterResource } from './clusterInformers.ts';
import { type Policy, parsePolicy } from '@tycho/policy';

const POLICY_RESOURCES = ['ciliumNetworkPolicies', 'ciliumClusterwideNetworkPolicies', 'networkPolicies'] as const satisfies readonly ClusterResource[];

/** The kind each informer's objects have, for objects listed without one (a list's items carry none in Kubernetes). */
const KIND_OF: Record<(typeof POLICY_RESOURCES)[number], { apiVersion: string; kind: string }> = {
  ciliumNetworkPolicies: { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy' },
  ciliumClusterwideNetworkPolicies: { apiVersion: 'cilium.io/v2', kind: 'CiliumClusterwideNetworkPolicy' },
  networkPolicies: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
};

export interface ClusterPolicies {
  /** The highest resourceVersion of a policy change seen (or of the first list): moves with every apply and delete. */
  revision: number;
  /** Every stored policy that parses, by kind, namespace and name. */
  policies: Policy[];
  /** What is wrong with each stored object that does not parse: it is left out, the others stay in force. */
  invalid: string[];
}

function versionOf(text: string | undefined): number {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : 0;
}

/**
 * The policies in force, read from the CiliumNetworkPolicy,
 * CiliumClusterwideNetworkPolicy and NetworkPolicy informers' caches and
 * parsed by @tycho/policy; an object is parsed again only when its
 * resourceVersion changed, so an idle agent with a large policy does not
 * parse it again at every resolution.
 */
export function createClusterPolicyReader(informers: Pick<ClusterInformers, 'informer' | 'subscribe'>): { read: () => ClusterPolicies; close: () => void } {
  let highest = 0;
  let parsed = new Map<string, { version: string; result: { policy: Policy } | { error: string } }>();
  for (const resource of POLICY_RESOURCES) {
    const informer = informers.informer(resource);
    void informer.synced.then(
      () => {
        highest = Math.max(highest, versionOf(informer.resourceVersion));
      },
      () => {},
    );
  }
  const unsubscribe = informers.subscribe((event) => {
    if ((POLICY_RESOURCES as readonly string[]).includes(event.resource) && event.type !== 'resync') highest = Math.max(highest, versionOf(event.object.metadata?.resourceVersion));
  });

  function read(): ClusterPolicies {
    const next = new Map<string, { version: string; result: { policy: Policy } | { error: string } }>();
    const policies: Policy[] = [];
    const invalid: string[] = [];
    for (const resource of POLICY_RESOURCES) {
      const objects = (informers.informer(resource).list() as KubernetesObject[]).sort((a, b) =>
        `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`.localeCompare(`${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`),
      );
      for (const object of objects) {
        const key = `${resource}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
        const version = object.metadata?.resourceVersion ?? '';
        const known = parsed.get(key);
        const entry = known && known.version === version ? known : { version, result: parseStored(object, resource) };
        next.set(key, entry);
        if ('policy' in entry.result) policies.push(entry.result.policy);
        else invalid.push(entry.result.error);
      }
    }
    parsed = next;
    policies.sort((a, b) => policyOrder(a).localeCompare(policyOrder(b)));
    return { revision: highest, policies, invalid };
  }

  return { read, close: unsubscribe };
}

/** Kind, then namespace and name: CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy, NetworkPolicy. */
function policyOrder(policy: Policy): string {
  return `${policy.ref.kind}\0${policy.ref.namespace}\0${policy.ref.name}`;
}

function parseStored(object: KubernetesObject, resource: (typeof POLICY_RESOURCES)[number]): { policy: Policy } | { error: string } {
  try {
    return { policy: parsePolicy({ ...KIND_OF[resource], ...object }) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
