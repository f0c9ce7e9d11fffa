import { type Flow, type FlowPolicy, ReservedIdentity } from '@tycho/flow';
import { decide, type Direction, type EndpointPolicy, type Identity, type PolicyRef, Protocol, worldIdentityOf } from '@tycho/policy';

/** Drop reasons that policy causes: only these drops are named after policies. */
const POLICY_DROP_REASONS = new Set([133, 181]);

export interface FlowPolicyContext {
  /** The resolved policy of a local endpoint. */
  policyOf(endpointId: number): EndpointPolicy | undefined;
  /** Node-local CIDR identities: a world address's identity in policy is its longest matching CIDR's. */
  cidrIdentities(): readonly Identity[];
  /** The policy revision the decisions are made with. */
  readonly revision: number;
}

/**
 * Names the policies that allowed or denied a flow (Hubble's
 * `egress_allowed_by`, `ingress_allowed_by`, `egress_denied_by`,
 * `ingress_denied_by`), with `decide` over the agent's resolved policy:
 * at FROM_ENDPOINT the source endpoint's egress, at TO_ENDPOINT the
 * destination endpoint's ingress; a drop or policy verdict (no observation
 * point) by its traffic direction, and without one every local side. Replies (let through by conntrack),
 * drops for other reasons than policy, and directions no policy enforces are
 * left unnamed. Sets the fields on `flow` and returns it.
 */
export function namePoliciesOnFlow(flow: Flow, context: FlowPolicyContext): Flow {
  if (flow.is_reply) return flow;
  if (flow.verdict === 'DROPPED' && !POLICY_DROP_REASONS.has(flow.drop_reason ?? 0)) return flow;
  const l4 = layer4Key(flow);
  if (!l4) return flow;
  // Without an observation point (drops, policy verdicts) the traffic direction says which side judged it, when known.
  const point = flow.trace_observation_point ?? (flow.traffic_direction === 'EGRESS' ? 'FROM_ENDPOINT' : flow.traffic_direction === 'INGRESS' ? 'TO_ENDPOINT' : undefined);
  if (point !== 'TO_ENDPOINT') nameDirection(flow, 'egress', l4, context);
  if (point !== 'FROM_ENDPOINT') nameDirection(flow, 'ingress', l4, context);
  return flow;
}

function nameDirection(flow: Flow, direction: Direction, l4: { port: number; protocol: number }, context: FlowPolicyContext): void {
  const local = direction === 'egress' ? flow.source : flow.destination;
  const remote = direction === 'egress' ? flow.destination : flow.source;
  const remoteIp = direction === 'egress' ? flow.IP?.destination : flow.IP?.source;
  if (local?.ID === undefined) return;
  const policy = context.policyOf(local.ID);
  if (!policy) return;
  let remoteIdentity = remote?.identity ?? ReservedIdentity.world;
  if (remoteIdentity === ReservedIdentity.world && remoteIp) remoteIdentity = worldIdentityOf(remoteIp, context.cidrIdentities());
  const decision = decide(policy, direction, remoteIdentity, l4.port, l4.protocol);
  if (decision.verdict === 'not-enforced' || decision.policies.length === 0) return;
  const named = decision.policies.map((ref) => flowPolicyOf(ref, context.revision));
  if (decision.verdict === 'allowed') flow[`${direction}_allowed_by`] = named;
  else flow[`${direction}_denied_by`] = named;
}

/** Destination port and IP protocol as policy entries key them; ICMP has no port. */
function layer4Key(flow: Flow): { port: number; protocol: number } | undefined {
  const l4 = flow.l4;
  if (l4?.TCP) return { port: l4.TCP.destination_port ?? 0, protocol: Protocol.TCP };
  if (l4?.UDP) return { port: l4.UDP.destination_port ?? 0, protocol: Protocol.UDP };
  if (l4?.ICMPv4) return { port: 0, protocol: Protocol.ICMP };
  if (l4?.ICMPv6) return { port: 0, protocol: Protocol.ICMPV6 };
  return undefined;
}

/**
 * Hubble's Policy for a policy reference, with the labels Cilium derives
 * for a rule from a Kubernetes object.
 */
export function flowPolicyOf(ref: PolicyRef, revision: number): FlowPolicy {
  const labels = [
    `k8s:io.cilium.k8s.policy.derived-from=${ref.kind}`,
    `k8s:io.cilium.k8s.policy.name=${ref.name}`,
    ...(ref.namespace ? [`k8s:io.cilium.k8s.policy.namespace=${ref.namespace}`] : []),
  ];
  return { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), labels, revision, kind: ref.kind };
}
