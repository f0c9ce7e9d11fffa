import type { Flow } from '@tycho/flow';
import { policiesOfFlow, type Card, type Link, type LinkPolicy } from '@tycho/servicemap';
import type { ApiPolicy, ApiPolicyList } from '../data/apiSchemas.ts';
import { linkLabel } from './selection.ts';

/** How the UI names policies: on flows, links and cards. */

/** What a flow or link says of one policy; a flow's entries have no count. */
export type PolicyEntry = Omit<LinkPolicy, 'flows'> & { flows?: number };

/** `default/pod-to-a-allowed-cnp`, or just the name for a clusterwide policy. */
export function policyName(policy: { name: string; namespace?: string }): string {
  return policy.namespace ? `${policy.namespace}/${policy.name}` : policy.name;
}

/** `egress denied by default/pod-to-a-l3-denied-cnp`. */
export function policyEntryText(entry: PolicyEntry): string {
  return `${entry.direction} ${entry.effect} by ${policyName(entry)}`;
}

/** The policies a flow names, denying ones first (the order of `policiesOfFlow`). */
export function flowPolicyEntries(flow: Flow): PolicyEntry[] {
  return policiesOfFlow(flow);
}

/**
 * The flows table's Policy cell: the policies the flow names, name first so a
 * narrow column still shows it (`default/x (egress denied)`), else a drop's
 * reason when it was a policy drop, else empty.
 */
export function flowPolicyCell(flow: Flow): string {
  const entries = flowPolicyEntries(flow);
  if (entries.length > 0) return entries.map((entry) => `${policyName(entry)} (${entry.direction} ${entry.effect})`).join(', ');
  const reason = flow.verdict === 'DROPPED' ? flow.drop_reason_desc : undefined;
  return reason?.startsWith('POLICY_') ? reason : '';
}

/** `POLICY_DENIED 4, CT_UNKNOWN_L4_PROTOCOL 1`, most frequent first; empty without drops. */
export function dropReasonsText(dropReasons: Readonly<Record<string, number>>): string {
  return Object.entries(dropReasons).sort(([a, m], [b, n]) => n - m || a.localeCompare(b)).map(([reason, n]) => `${reason} ${n}`).join(', ');
}

/**
 * A link's tooltip: its name, verdict counts, drop reasons and the policies
 * that denied or allowed it, one per line.
 */
export function linkTitle(link: Link, cards: ReadonlyMap<string, Card>): string {
  const lines = [linkLabel(link, cards).replace(/^link /, '')];
  lines.push(Object.entries(link.verdicts).map(([verdict, n]) => `${verdict} ${n}`).join(', ') || 'no flows counted');
  const drops = dropReasonsText(link.dropReasons);
  if (drops) lines.push(`dropped: ${drops}`);
  for (const policy of link.policies ?? []) lines.push(`${policyEntryText(policy)} (${policy.flows} flows)`);
  return lines.join('\n');
}

/** A policy that selects some of a card's pods, and the directions it makes default-deny for any of them. */
export interface CardPolicy {
  kind: string;
  namespace: string;
  name: string;
  ingress: boolean;
  egress: boolean;
  /** How many of the card's pods it selects. */
  pods: number;
}

/** Whether a selected pod is one of the card's: by pod name, or by the workload's name prefix when the card has no pods yet. */
function isCardPod(card: Card, selected: ApiPolicy['selects'][number]): boolean {
  if (selected.namespace !== card.namespace) return false;
  if (card.pods.length > 0) return card.pods.includes(selected.pod_name);
  return card.workload !== undefined && selected.pod_name.startsWith(`${card.workload.name}-`);
}

/** The policies that select a card's pods, sorted by namespace, name and kind; none for cards that are not workloads. */
export function cardPolicies(list: ApiPolicyList, card: Card): CardPolicy[] {
  if (card.namespace === undefined) return [];
  const found: CardPolicy[] = [];
  for (const policy of list.policies) {
    const selected = policy.selects.filter((pod) => isCardPod(card, pod));
    if (selected.length === 0) continue;
    found.push({
      kind: policy.kind,
      namespace: policy.namespace,
      name: policy.name,
      ingress: selected.some((pod) => pod.ingress),
      egress: selected.some((pod) => pod.egress),
      pods: selected.length,
    });
  }
  return found.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.kind.localeCompare(b.kind));
}

/** What the card panel shows in its Policies section. */
export type CardPoliciesState =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; policies: CardPolicy[] };

/** The Policies section's state from the policies query (a TanStack Query result or the same fields). */
export function cardPoliciesState(query: { data?: ApiPolicyList | undefined; error?: Error | null }, card: Card): CardPoliciesState {
  if (query.data) return { status: 'ready', policies: cardPolicies(query.data, card) };
  if (query.error) return { status: 'error', message: query.error.message };
  return { status: 'loading' };
}
