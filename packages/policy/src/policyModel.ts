import type { Prefix } from './cidr.ts';
import type { EndpointSelector } from './endpointSelector.ts';
import type { FqdnSelector } from './fqdnSelector.ts';

/**
 * The policy model every supported kind is translated into: Cilium's rule
 * model after its Kubernetes translation (namespace scoping applied), so that
 * resolution never needs to know which kind a rule came from.
 */

export type PolicyKind = 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy' | 'NetworkPolicy';

export interface PolicyRef {
  readonly kind: PolicyKind;
  /** '' for a CiliumClusterwideNetworkPolicy. */
  readonly namespace: string;
  readonly name: string;
}

export type Direction = 'ingress' | 'egress';

/** Entities of Cilium's policy language (`fromEntities` / `toEntities`). */
export const ENTITIES = [
  'all',
  'world',
  'world-ipv4',
  'world-ipv6',
  'cluster',
  'host',
  'remote-node',
  'kube-apiserver',
  'init',
  'health',
  'unmanaged',
  'ingress',
  'none',
] as const;
export type Entity = (typeof ENTITIES)[number];

export type PortProtocol = 'TCP' | 'UDP' | 'SCTP' | 'ANY';

export interface PortSpec {
  /** A port number (0 = every port) or a named container port. */
  readonly port: number | string;
  /** Last port of a range; equal to `port` for one port. */
  readonly endPort: number;
  readonly protocol: PortProtocol;
  /**
   * DNS L7 rules of the toPorts entry (egress allow only): which names may be
   * queried on these ports. undefined = no L7 rule (any query).
   */
  readonly dns?: readonly FqdnSelector[] | undefined;
}

/** One peer clause. Selectors are already scoped (namespace, cluster) as Cilium scopes them. */
export type Peer =
  | { readonly kind: 'selector'; readonly selector: EndpointSelector }
  | { readonly kind: 'entity'; readonly entity: Entity }
  | { readonly kind: 'cidr'; readonly cidr: Prefix; readonly except: readonly Prefix[] }
  | { readonly kind: 'fqdn'; readonly selector: FqdnSelector };

export interface PeerRule {
  /**
   * Who; `undefined` when the rule names no peer at all, which with ports
   * means every peer on those ports (Cilium's L4-only rule) and without
   * ports selects nothing (an empty CNP rule `{}` only turns on default deny).
   * A NetworkPolicy rule without `from`/`to` has `[{kind:'entity', entity:'all'}]`.
   */
  readonly peers: readonly Peer[] | undefined;
  /** Empty = every port and protocol. */
  readonly ports: readonly PortSpec[];
}

export interface PolicyRule {
  /** Which endpoints the rule applies to (namespace-scoped for namespaced kinds). */
  readonly subject: EndpointSelector;
  readonly ingress: readonly PeerRule[];
  readonly egress: readonly PeerRule[];
  readonly ingressDeny: readonly PeerRule[];
  readonly egressDeny: readonly PeerRule[];
  /** Whether selecting an endpoint turns on default deny in that direction. */
  readonly defaultDeny: { readonly ingress: boolean; readonly egress: boolean };
}

export interface Policy {
  readonly ref: PolicyRef;
  readonly rules: readonly PolicyRule[];
  /** The object as it was applied (for `policy get`). */
  readonly source: unknown;
}

/** `namespace/name`, or `name` for a clusterwide policy. */
export function policyRefName(ref: PolicyRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

/** A unique key including the kind: `CiliumNetworkPolicy/default/x`. */
export function policyRefKey(ref: PolicyRef): string {
  return `${ref.kind}/${policyRefName(ref)}`;
}
