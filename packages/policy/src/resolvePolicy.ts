import { ReservedIdentity } from '@tycho/flow';
import { formatPrefix, hostPrefix, isWholeFamily, type Prefix, prefixContains } from './cidr.ts';
import { type DnsRecord, fqdnAddresses } from './dnsCache.ts';
import { isWildcardSelector, selectorMatches } from './endpointSelector.ts';
import type { FqdnSelector } from './fqdnSelector.ts';
import { ANY_IDENTITY, type Identity, isClusterWorkloadIdentity, prefixOfIdentity, reservedIdentities } from './identities.ts';
import { type Label, parseLabel } from './labels.ts';
import {
  type Direction,
  type Entity,
  type Peer,
  type PeerRule,
  type Policy,
  type PolicyRef,
  type PolicyRule,
  type PortSpec,
  policyRefKey,
} from './policyModel.ts';

/** IANA protocol numbers used in entries; 0 = any protocol. */
export const Protocol = { ANY: 0, ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;

const PROTOCOL_NUMBER = { ANY: 0, TCP: 6, UDP: 17, SCTP: 132 } as const;

/** A container port with a name, for `port: http` in policies. */
export interface NamedPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

/** An endpoint (pod) of this node. */
export interface PolicyEndpoint {
  readonly id: number;
  readonly identity: number;
  /** Its security labels (`k8s:app=x`, `k8s:io.kubernetes.pod.namespace=ns`, …). */
  readonly labels: readonly string[];
  /** Its own named container ports (resolve named ports of ingress rules). */
  readonly namedPorts?: readonly NamedPort[];
}

export interface PolicyInputs {
  readonly policies: readonly Policy[];
  /** Workload and CIDR identities; reserved identities are added when missing. */
  readonly identities: readonly Identity[];
  /** DNS answers seen (toFQDNs); expired records are ignored. */
  readonly dnsRecords?: readonly DnsRecord[];
  /** Epoch milliseconds; decides which DNS records are live. */
  readonly nowMs: number;
  /** Named ports of every pod in the cluster (resolve named ports of egress rules). */
  readonly clusterNamedPorts?: readonly NamedPort[];
}

/**
 * One allow or deny: traffic with the remote identity (0 = any), on
 * destination ports port..endPort (port 0 = any) and protocol (0 = any).
 */
export interface PolicyEntry {
  readonly identity: number;
  readonly protocol: number;
  readonly port: number;
  readonly endPort: number;
  readonly deny: boolean;
  /** Every policy that produced this entry. */
  readonly policies: readonly PolicyRef[];
  /** DNS L7 rules on this entry: the names that may be queried; undefined = any. */
  readonly dns?: readonly FqdnSelector[] | undefined;
}

export interface DirectionPolicy {
  /** Selected by a policy in this direction: what no entry allows is denied. */
  readonly enforced: boolean;
  /** The policies that turned on default deny here. */
  readonly enforcedBy: readonly PolicyRef[];
  readonly entries: readonly PolicyEntry[];
}

export interface EndpointPolicy {
  readonly endpointId: number;
  readonly identity: number;
  /** Every policy with a rule selecting this endpoint. */
  readonly selectedBy: readonly PolicyRef[];
  readonly ingress: DirectionPolicy;
  readonly egress: DirectionPolicy;
}

interface KnownIdentity {
  readonly id: number;
  readonly labels: readonly Label[];
  /** Set for CIDR identities. */
  readonly prefix: Prefix | undefined;
}

/** Identity numbers an entity stands for, CIDR identities aside (added for world). */
const ENTITY_IDENTITIES: Record<Exclude<Entity, 'all' | 'cluster'>, readonly number[]> = {
  world: [ReservedIdentity.world],
  'world-ipv4': [ReservedIdentity.world],
  'world-ipv6': [ReservedIdentity.world],
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
const CLUSTER_RESERVED: readonly number[] = [
  ReservedIdentity.host,
  ReservedIdentity['remote-node'],
  ReservedIdentity['kube-apiserver'],
  ReservedIdentity.init,
  ReservedIdentity.health,
  ReservedIdentity.unmanaged,
  ReservedIdentity.ingress,
];

/**
 * Resolves the policies for endpoints of one node: a pure function of
 * (policies, identities, DNS records, now). Recompute it whenever one of
 * them changes — in particular when a DNS record used by a toFQDNs rule is
 * learned or expires (`nextDnsExpiry` says when).
 */
export function resolveEndpointPolicies(endpoints: readonly PolicyEndpoint[], inputs: PolicyInputs): EndpointPolicy[] {
  const context = createContext(inputs);
  return endpoints.map((endpoint) => resolveOne(endpoint, context));
}

interface Context {
  readonly inputs: PolicyInputs;
  readonly identities: readonly KnownIdentity[];
  readonly fqdnIps: Map<FqdnSelector, Prefix[]>;
}

function createContext(inputs: PolicyInputs): Context {
  const byId = new Map<number, Identity>();
  for (const identity of reservedIdentities()) byId.set(identity.id, identity);
  for (const identity of inputs.identities) byId.set(identity.id, identity);
  const identities = [...byId.values()].map(
    (identity): KnownIdentity => ({ id: identity.id, labels: identity.labels.map(parseLabel), prefix: prefixOfIdentity(identity) }),
  );
  return { inputs, identities, fqdnIps: new Map() };
}

function resolveOne(endpoint: PolicyEndpoint, context: Context): EndpointPolicy {
  const labels = endpoint.labels.map(parseLabel);
  const selecting: { policy: Policy; rule: PolicyRule }[] = [];
  for (const policy of context.inputs.policies) {
    for (const rule of policy.rules) if (selectorMatches(rule.subject, labels)) selecting.push({ policy, rule });
  }
  const selectedBy = uniqueRefs(selecting.map(({ policy }) => policy.ref));
  return {
    endpointId: endpoint.id,
    identity: endpoint.identity,
    selectedBy,
    ingress: resolveDirection('ingress', selecting, endpoint, context),
    egress: resolveDirection('egress', selecting, endpoint, context),
  };
}

function resolveDirection(
  direction: Direction,
  selecting: readonly { policy: Policy; rule: PolicyRule }[],
  endpoint: PolicyEndpoint,
  context: Context,
): DirectionPolicy {
  const raw: PolicyEntry[] = [];
  const enforcedBy: PolicyRef[] = [];
  for (const { policy, rule } of selecting) {
    if (rule.defaultDeny[direction]) enforcedBy.push(policy.ref);
    const allows = direction === 'ingress' ? rule.ingress : rule.egress;
    const denies = direction === 'ingress' ? rule.ingressDeny : rule.egressDeny;
    for (const peerRule of allows) raw.push(...entriesOf(peerRule, false, policy.ref, direction, endpoint, context));
    for (const peerRule of denies) raw.push(...entriesOf(peerRule, true, policy.ref, direction, endpoint, context));
  }
  const unique = uniqueRefs(enforcedBy);
  return { enforced: unique.length > 0, enforcedBy: unique, entries: mergeEntries(raw) };
}

function entriesOf(
  rule: PeerRule,
  deny: boolean,
  ref: PolicyRef,
  direction: Direction,
  endpoint: PolicyEndpoint,
  context: Context,
): PolicyEntry[] {
  let identities: number[];
  if (rule.peers === undefined) identities = rule.ports.length > 0 ? [ANY_IDENTITY] : [];
  else identities = peerIdentities(rule.peers, context);
  if (identities.length === 0) return [];
  const ports = rule.ports.length === 0 ? [{ protocol: 0, port: 0, endPort: 0, dns: undefined }] : rule.ports.flatMap((spec) => portsOf(spec, direction, endpoint, context));
  const entries: PolicyEntry[] = [];
  for (const identity of identities) {
    for (const port of ports) entries.push({ identity, ...port, deny, policies: [ref] });
  }
  return entries;
}

function portsOf(
  spec: PortSpec,
  direction: Direction,
  endpoint: PolicyEndpoint,
  context: Context,
): { protocol: number; port: number; endPort: number; dns: readonly FqdnSelector[] | undefined }[] {
  const protocol = PROTOCOL_NUMBER[spec.protocol];
  if (typeof spec.port === 'number') {
    return [{ protocol, port: spec.port, endPort: spec.port === 0 ? 0 : spec.endPort, dns: spec.dns }];
  }
  // Named ports: an ingress rule names a port of the endpoint itself, an egress rule a port of its peers.
  const named = direction === 'ingress' ? (endpoint.namedPorts ?? []) : (context.inputs.clusterNamedPorts ?? []);
  const out = new Map<string, { protocol: number; port: number; endPort: number; dns: readonly FqdnSelector[] | undefined }>();
  for (const candidate of named) {
    if (candidate.name !== spec.port || (spec.protocol !== 'ANY' && spec.protocol !== candidate.protocol)) continue;
    const number = PROTOCOL_NUMBER[candidate.protocol];
    out.set(`${number}/${candidate.port}`, { protocol: number, port: candidate.port, endPort: candidate.port, dns: spec.dns });
  }
  return [...out.values()];
}

function peerIdentities(peers: readonly Peer[], context: Context): number[] {
  const ids = new Set<number>();
  for (const peer of peers) {
    if (isWildcardPeer(peer)) return [ANY_IDENTITY];
    for (const id of identitiesOfPeer(peer, context)) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

function isWildcardPeer(peer: Peer): boolean {
  return (peer.kind === 'selector' && isWildcardSelector(peer.selector)) || (peer.kind === 'entity' && peer.entity === 'all');
}

function identitiesOfPeer(peer: Peer, context: Context): number[] {
  switch (peer.kind) {
    case 'selector':
      return context.identities.filter((identity) => selectorMatches(peer.selector, identity.labels)).map((identity) => identity.id);
    case 'entity':
      return entityIdentities(peer.entity, context);
    case 'cidr':
      return context.identities
        .filter((identity) => {
          if (identity.id === ReservedIdentity.world) return isWholeFamily(peer.cidr);
          const prefix = identity.prefix;
          return prefix !== undefined && prefixContains(peer.cidr, prefix) && !peer.except.some((except) => prefixContains(except, prefix));
        })
        .map((identity) => identity.id);
    case 'fqdn': {
      const hosts = fqdnHosts(peer.selector, context);
      return context.identities
        .filter((identity) => identity.prefix !== undefined && hosts.some((host) => prefixContains(host, identity.prefix as Prefix) && prefixContains(identity.prefix as Prefix, host)))
        .map((identity) => identity.id);
    }
  }
}

function entityIdentities(entity: Entity, context: Context): number[] {
  if (entity === 'all') return [ANY_IDENTITY];
  if (entity === 'cluster') {
    return context.identities.filter((identity) => CLUSTER_RESERVED.includes(identity.id) || isClusterWorkloadIdentity(identity.id)).map((identity) => identity.id);
  }
  const ids = [...ENTITY_IDENTITIES[entity]];
  if (entity === 'world' || entity === 'world-ipv4' || entity === 'world-ipv6') {
    const family = entity === 'world-ipv4' ? 4 : entity === 'world-ipv6' ? 6 : undefined;
    for (const identity of context.identities) {
      if (identity.prefix && (family === undefined || identity.prefix.family === family)) ids.push(identity.id);
    }
  }
  return ids;
}

function fqdnHosts(selector: FqdnSelector, context: Context): Prefix[] {
  let hosts = context.fqdnIps.get(selector);
  if (!hosts) {
    hosts = fqdnAddresses(selector, context.inputs.dnsRecords ?? [], context.inputs.nowMs).flatMap((ip) => {
      const host = hostPrefix(ip);
      return host ? [host] : [];
    });
    context.fqdnIps.set(selector, hosts);
  }
  return hosts;
}

/**
 * The prefixes that need CIDR identities so that the datapath can tell
 * them apart: every CIDR and except of a rule (not /0, which is world) and
 * every live address that a toFQDNs selector matches, as /32 or /128.
 * Feed them to CidrIdentityAllocator.sync.
 */
export function requiredCidrs(policies: readonly Policy[], dnsRecords: readonly DnsRecord[], nowMs: number): string[] {
  const out = new Set<string>();
  const visit = (rules: readonly PeerRule[]): void => {
    for (const rule of rules) {
      for (const peer of rule.peers ?? []) {
        if (peer.kind === 'cidr') {
          for (const prefix of [peer.cidr, ...peer.except]) if (!isWholeFamily(prefix)) out.add(formatPrefix(prefix));
        } else if (peer.kind === 'fqdn') {
          for (const ip of fqdnAddresses(peer.selector, dnsRecords, nowMs)) {
            const host = hostPrefix(ip);
            if (host) out.add(formatPrefix(host));
          }
        }
      }
    }
  };
  for (const policy of policies) {
    for (const rule of policy.rules) {
      visit(rule.ingress);
      visit(rule.egress);
      visit(rule.ingressDeny);
      visit(rule.egressDeny);
    }
  }
  return [...out].sort();
}

/** Every toFQDNs selector of the policies (for nextDnsExpiry). */
export function fqdnSelectorsOf(policies: readonly Policy[]): FqdnSelector[] {
  const out: FqdnSelector[] = [];
  for (const policy of policies) {
    for (const rule of policy.rules) {
      for (const peerRule of rule.egress) for (const peer of peerRule.peers ?? []) if (peer.kind === 'fqdn') out.push(peer.selector);
    }
  }
  return out;
}

function uniqueRefs(refs: readonly PolicyRef[]): PolicyRef[] {
  const byKey = new Map<string, PolicyRef>();
  for (const ref of refs) byKey.set(policyRefKey(ref), ref);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ref]) => ref);
}

/** One entry per (identity, protocol, port range, deny), with the policies and DNS rules of all merged. */
function mergeEntries(raw: readonly PolicyEntry[]): PolicyEntry[] {
  const merged = new Map<string, PolicyEntry>();
  for (const entry of raw) {
    const key = `${entry.identity}/${entry.protocol}/${entry.port}-${entry.endPort}/${entry.deny}`;
    const existing = merged.get(key);
    if (!existing) {
      merged.set(key, entry);
      continue;
    }
    // An entry without DNS rules allows every query, so it wins over DNS-restricted ones.
    const dns = existing.dns === undefined || entry.dns === undefined ? undefined : [...existing.dns, ...entry.dns];
    merged.set(key, { ...existing, policies: uniqueRefs([...existing.policies, ...entry.policies]), dns });
  }
  return [...merged.values()].sort(
    (a, b) => Number(b.deny) - Number(a.deny) || a.identity - b.identity || a.protocol - b.protocol || a.port - b.port || a.endPort - b.endPort,
  );
}
