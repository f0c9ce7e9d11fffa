import type { Flow, FlowPolicy } from '@tycho/flow';
import type { LinkPolicy, PolicyDirection, PolicyEffect } from './model.ts';

/** A link names at most this many distinct policies (by effect, direction and policy); later ones are not recorded. */
export const MAX_POLICIES_PER_LINK = 8;

const FLOW_POLICY_FIELDS = [
  ['egress_denied_by', 'denied', 'egress'],
  ['ingress_denied_by', 'denied', 'ingress'],
  ['egress_allowed_by', 'allowed', 'egress'],
  ['ingress_allowed_by', 'allowed', 'ingress'],
] as const satisfies readonly (readonly [keyof Flow, PolicyEffect, PolicyDirection])[];

/** The policies a flow names in `*_denied_by` / `*_allowed_by`, each with its effect and direction. */
export function policiesOfFlow(flow: Flow): Omit<LinkPolicy, 'flows'>[] {
  const found: Omit<LinkPolicy, 'flows'>[] = [];
  for (const [field, effect, direction] of FLOW_POLICY_FIELDS) {
    const policies: FlowPolicy[] | undefined = flow[field];
    if (!Array.isArray(policies)) continue;
    for (const policy of policies) {
      if (typeof policy?.name !== 'string' || policy.name === '') continue;
      found.push({
        name: policy.name,
        ...(policy.namespace ? { namespace: policy.namespace } : {}),
        ...(policy.kind ? { kind: policy.kind } : {}),
        effect,
        direction,
      });
    }
  }
  return found;
}

/**
 * The distinct policies named by a link's flows, with how many flows named
 * each, bounded at `MAX_POLICIES_PER_LINK` so a link's size stays small.
 */
export class LinkPolicies {
  private readonly byKey = new Map<string, LinkPolicy>();

  get size(): number {
    return this.byKey.size;
  }

  /** Counts the flow's policies; true when anything changed. */
  record(flow: Flow): boolean {
    let changed = false;
    for (const policy of policiesOfFlow(flow)) {
      const key = `${policy.effect}|${policy.direction}|${policy.kind ?? ''}|${policy.namespace ?? ''}|${policy.name}`;
      const known = this.byKey.get(key);
      if (known) {
        known.flows += 1;
        changed = true;
      } else if (this.byKey.size < MAX_POLICIES_PER_LINK) {
        this.byKey.set(key, { ...policy, flows: 1 });
        changed = true;
      }
    }
    return changed;
  }

  /** Denying policies first, then the most frequent, then by namespace and name. */
  view(): LinkPolicy[] {
    return [...this.byKey.values()]
      .map((policy) => ({ ...policy }))
      .sort((a, b) =>
        (a.effect === b.effect ? 0 : a.effect === 'denied' ? -1 : 1)
        || b.flows - a.flows
        || (a.namespace ?? '').localeCompare(b.namespace ?? '')
        || a.name.localeCompare(b.name)
        || a.direction.localeCompare(b.direction));
  }
}
