import { formatPrefix, hostPrefix, isWholeFamily } from './cidr.ts';
import { type DnsRecord, fqdnAddresses } from './dnsCache.ts';
import type { FqdnSelector } from './fqdnSelector.ts';
import type { Identity } from './identities.ts';
import { PolicyEngine } from './policyEngine.ts';
import type { PeerRule, Policy, PolicyRef } from './policyModel.ts';

/** IANA protocol numbers used in entries; 0 = any protocol. */
export const Protocol = { ANY: 0, ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;

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

/**
 * Resolves the policies for endpoints of one node: a pure function of
 * (policies, identities, DNS records, now). Recompute it whenever one of
 * them changes — in particular when a DNS record used by a toFQDNs rule is
 * learned or expires (`nextDnsExpiry` says when). A process that keeps
 * resolving as things change uses a PolicyEngine, which does only the work
 * a change calls for.
 */
export function resolveEndpointPolicies(endpoints: readonly PolicyEndpoint[], inputs: PolicyInputs): EndpointPolicy[] {
  const engine = new PolicyEngine();
  engine.updateNow({ ...inputs, endpoints });
  return endpoints.map((endpoint) => engine.policyOf(endpoint.id)!);
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
