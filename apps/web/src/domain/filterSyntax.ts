import type { FlowFilter } from '@tycho/filters';
import type { TCPFlags, Verdict } from '@tycho/flow';

/**
 * The filter bar's language, Hubble UI's: whitespace-separated terms
 * `[!][from:|to:]kind=value`, where kind is label, ip, dns, identity,
 * workload, pod or tcp-flag. `label key=val` (a space instead of `=` after
 * the kind) is accepted too. `!` negates, `from:`/`to:` restrict the term to
 * the flow's source or destination; without them either side may match.
 *
 * Turned into Hubble FlowFilters like the hubble CLI's repeated flags:
 * terms of one kind and side are alternatives (OR), different kinds must
 * all hold (AND), and a negated term excludes flows matching it on its side
 * (or on either side) through the blacklist.
 */

export const FILTER_KINDS = ['label', 'ip', 'dns', 'identity', 'workload', 'pod', 'tcp-flag'] as const;
export type FilterKind = (typeof FILTER_KINDS)[number];
export type FilterSide = 'from' | 'to' | 'both';

export interface FilterTerm {
  kind: FilterKind;
  side: FilterSide;
  negated: boolean;
  value: string;
}

export interface ParsedFilters {
  terms: FilterTerm[];
  /** One message per term that could not be read, naming the term and what was expected. */
  errors: string[];
}

export interface FlowFilters {
  whitelist: FlowFilter[];
  blacklist: FlowFilter[];
}

const TCP_FLAG_NAMES = ['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR', 'NS'] as const;
const TERM = /^(!)?(?:(from|to):)?([a-z-]+)=(.+)$/;

function isFilterKind(kind: string): kind is FilterKind {
  return (FILTER_KINDS as readonly string[]).includes(kind);
}

/** Splits the bar's text into tokens, joining `label key=val` into `label=key=val`. */
function tokens(text: string): string[] {
  const words = text.trim().split(/\s+/).filter((word) => word.length > 0);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const bare = /^(!)?(?:(from|to):)?([a-z-]+)$/.exec(word);
    const next = words[i + 1];
    if (bare?.[3] && isFilterKind(bare[3]) && next !== undefined) {
      out.push(`${word}=${next}`);
      i++;
    } else {
      out.push(word);
    }
  }
  return out;
}

export function parseFilterText(text: string): ParsedFilters {
  const terms: FilterTerm[] = [];
  const errors: string[] = [];
  for (const token of tokens(text)) {
    const match = TERM.exec(token);
    const kind = match?.[3];
    const value = match?.[4];
    if (!match || kind === undefined || value === undefined) {
      errors.push(`"${token}": expected [!][from:|to:]kind=value with kind one of ${FILTER_KINDS.join(', ')}`);
      continue;
    }
    if (!isFilterKind(kind)) {
      errors.push(`"${token}": unknown kind "${kind}", expected one of ${FILTER_KINDS.join(', ')}`);
      continue;
    }
    const problem = valueProblem(kind, value);
    if (problem) {
      errors.push(`"${token}": ${problem}`);
      continue;
    }
    terms.push({ kind, side: (match[2] as 'from' | 'to' | undefined) ?? 'both', negated: match[1] === '!', value });
  }
  return { terms, errors };
}

function valueProblem(kind: FilterKind, value: string): string | undefined {
  if (kind === 'identity' && !/^\d+$/.test(value)) return `identity must be a number, got "${value}"`;
  if (kind === 'tcp-flag') {
    const bad = value.split(',').find((flag) => !(TCP_FLAG_NAMES as readonly string[]).includes(flag.toUpperCase()));
    if (bad !== undefined) return `unknown TCP flag "${bad}", expected ${TCP_FLAG_NAMES.join(', ')}`;
  }
  return undefined;
}

/** The text of a term, as the bar shows it. */
export function formatFilterTerm(term: FilterTerm): string {
  return `${term.negated ? '!' : ''}${term.side === 'both' ? '' : `${term.side}:`}${term.kind}=${term.value}`;
}

type SideField = 'label' | 'ip' | 'fqdn' | 'identity' | 'workload' | 'pod';

const FIELD_OF_KIND: Record<Exclude<FilterKind, 'tcp-flag'>, SideField> = {
  label: 'label',
  ip: 'ip',
  dns: 'fqdn',
  identity: 'identity',
  workload: 'workload',
  pod: 'pod',
};

function tcpFlagsOf(value: string): TCPFlags {
  const flags: TCPFlags = {};
  for (const flag of value.split(',')) flags[flag.toUpperCase() as keyof TCPFlags] = true;
  return flags;
}

/** `Deployment/echo-a` → kind and name; `echo-a` → name. */
function workloadOf(value: string): { name: string; kind?: string } {
  const slash = value.indexOf('/');
  return slash > 0 ? { kind: value.slice(0, slash), name: value.slice(slash + 1) } : { name: value };
}

/** Adds one group's values to a filter for one side. */
function withSideValues(filter: FlowFilter, side: 'source' | 'destination', kind: FilterKind, values: string[]): FlowFilter {
  if (kind === 'tcp-flag') return { ...filter, tcp_flags: [...(filter.tcp_flags ?? []), ...values.map(tcpFlagsOf)] };
  const field = FIELD_OF_KIND[kind];
  switch (field) {
    case 'identity': {
      const key = side === 'source' ? 'source_identity' : 'destination_identity';
      return { ...filter, [key]: [...(filter[key] ?? []), ...values.map(Number)] };
    }
    case 'workload': {
      const key = side === 'source' ? 'source_workload' : 'destination_workload';
      return { ...filter, [key]: [...(filter[key] ?? []), ...values.map(workloadOf)] };
    }
    default: {
      const key = `${side}_${field}` as 'source_label' | 'source_ip' | 'source_fqdn' | 'source_pod';
      return { ...filter, [key]: [...(filter[key] ?? []), ...values] };
    }
  }
}

interface TermGroup {
  kind: FilterKind;
  side: FilterSide;
  values: string[];
}

function groupTerms(terms: readonly FilterTerm[]): TermGroup[] {
  const groups = new Map<string, TermGroup>();
  for (const term of terms) {
    // TCP flags belong to the flow, not to a side.
    const side = term.kind === 'tcp-flag' ? 'from' : term.side;
    const key = `${term.kind}|${side}`;
    const group = groups.get(key) ?? { kind: term.kind, side, values: [] };
    group.values.push(term.value);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * Hubble FlowFilters for the terms and the verdict choice. Each kind without
 * a side doubles the whitelist (source or destination): at most 2^6 filters.
 */
export function toFlowFilters(terms: readonly FilterTerm[], verdict?: Verdict): FlowFilters {
  let whitelist: FlowFilter[] = [{}];
  for (const group of groupTerms(terms.filter((term) => !term.negated))) {
    whitelist = whitelist.flatMap((filter) => {
      if (group.side === 'from') return [withSideValues(filter, 'source', group.kind, group.values)];
      if (group.side === 'to') return [withSideValues(filter, 'destination', group.kind, group.values)];
      return [withSideValues(filter, 'source', group.kind, group.values), withSideValues(filter, 'destination', group.kind, group.values)];
    });
  }
  if (verdict) whitelist = whitelist.map((filter) => ({ ...filter, verdict: [verdict] }));
  const blacklist: FlowFilter[] = [];
  for (const group of groupTerms(terms.filter((term) => term.negated))) {
    if (group.side !== 'to') blacklist.push(withSideValues({}, 'source', group.kind, group.values));
    if (group.side !== 'from') blacklist.push(withSideValues({}, 'destination', group.kind, group.values));
  }
  return { whitelist: whitelist.filter((filter) => Object.keys(filter).length > 0), blacklist };
}

const NAMESPACE_LABEL = 'k8s:io.kubernetes.pod.namespace';

/**
 * Narrows filters to flows with a source or destination in `namespace`, for
 * `GET /api/v1/flows` (the stream takes the namespace on its own). The
 * namespace joins each filter's label selectors with `,` (AND).
 */
export function withinNamespace(filters: FlowFilters, namespace: string | undefined): FlowFilters {
  if (!namespace) return filters;
  const selector = `${NAMESPACE_LABEL}=${namespace}`;
  const and = (selectors: string[] | undefined) => (selectors && selectors.length > 0 ? selectors.map((s) => `${s},${selector}`) : [selector]);
  const base = filters.whitelist.length > 0 ? filters.whitelist : [{}];
  return {
    whitelist: base.flatMap((filter) => [
      { ...filter, source_label: and(filter.source_label) },
      { ...filter, destination_label: and(filter.destination_label) },
    ]),
    blacklist: filters.blacklist,
  };
}
