import { namespaceNameProblem, type FlowFilter, type WorkloadFilter } from '@tycho/filters';
import { MonitorEventType, ReservedIdentity, TRACE_SUB_TYPE_NAMES, VERDICTS, type TCPFlags, type Verdict } from '@tycho/flow';

/** The `tycho observe` flags that build FlowFilters, as Hubble names them (`-4`/`-6` are `ipv4`/`ipv6`). */
export const FILTER_FLAGS = [
  'not',
  'pod', 'from-pod', 'to-pod',
  'namespace', 'from-namespace', 'to-namespace',
  'ip', 'from-ip', 'to-ip',
  'label', 'from-label', 'to-label',
  'fqdn', 'from-fqdn', 'to-fqdn',
  'service', 'from-service', 'to-service',
  'workload', 'from-workload', 'to-workload',
  'identity', 'from-identity', 'to-identity',
  'port', 'from-port', 'to-port',
  'verdict', 'type', 'protocol',
  'http-status', 'http-method', 'http-path',
  'tcp-flags', 'node-name', 'ipv4', 'ipv6',
] as const;
export type FilterFlag = (typeof FILTER_FLAGS)[number];

/** Hubble's monitor message type names for `--type`. */
export const EVENT_TYPE_NAMES: Readonly<Record<string, number>> = {
  drop: MonitorEventType.DROP,
  debug: MonitorEventType.DEBUG,
  capture: MonitorEventType.CAPTURE,
  trace: MonitorEventType.TRACE,
  'policy-verdict': MonitorEventType.POLICY_VERDICT,
  recorder: MonitorEventType.RECORD_CAPTURE,
  'trace-sock': MonitorEventType.TRACE_SOCK,
  l7: MonitorEventType.L7,
};

/**
 * Flags that cannot be given together in one list (whitelist, or blacklist),
 * as in Hubble: each group allows at most one of its flags.
 */
const CONFLICTS: readonly (readonly FilterFlag[])[] = [
  ['from-fqdn', 'from-ip', 'ip', 'fqdn', 'from-namespace', 'namespace'],
  ['from-fqdn', 'from-ip', 'ip', 'fqdn', 'from-pod', 'pod'],
  ['to-fqdn', 'to-ip', 'ip', 'fqdn', 'to-namespace', 'namespace'],
  ['to-fqdn', 'to-ip', 'ip', 'fqdn', 'to-pod', 'pod'],
  ['to-pod', 'namespace'],
  ['from-pod', 'namespace'],
  ['to-service', 'namespace'],
  ['from-service', 'namespace'],
  ['label', 'from-label'],
  ['label', 'to-label'],
  ['service', 'from-service'],
  ['service', 'to-service'],
  ['port', 'to-port'],
  ['port', 'from-port'],
  ['identity', 'to-identity'],
  ['identity', 'from-identity'],
  ['workload', 'to-workload'],
  ['workload', 'from-workload'],
];

type ListField = { [K in keyof FlowFilter]-?: NonNullable<FlowFilter[K]> extends (infer _)[] ? K : never }[keyof FlowFilter];
type Item<F extends ListField> = NonNullable<FlowFilter[F]>[number];

/**
 * One list being built, as Hubble's observe command builds it: two filters,
 * `left` (source side of symmetric flags) OR `right` (destination side);
 * other flags go into both. Namespaces are applied when the filters are read.
 */
class FilterPair {
  readonly used = new Set<FilterFlag>();
  private left: FlowFilter | undefined;
  private right: FlowFilter | undefined;
  readonly namespaces = { both: [] as string[], source: [] as string[], destination: [] as string[] };

  add<F extends ListField>(side: 'left' | 'right' | 'both', field: F, value: Item<F>): void {
    if (side !== 'right') this.left = append(this.left ?? {}, field, value);
    if (side !== 'left') this.right = append(this.right ?? {}, field, value);
  }

  /** Left and right after namespaces; one filter when both are the same. */
  filters(): FlowFilter[] {
    const { both, source, destination } = this.namespaces;
    if (!this.left && !this.right && both.length + source.length + destination.length === 0) return [];
    const left = structuredClone(this.left ?? {});
    const right = structuredClone(this.right ?? {});
    for (const filter of [left, right]) {
      if (destination.length > 0) inNamespaces(filter, 'destination', destination);
      if (source.length > 0) inNamespaces(filter, 'source', source);
    }
    if (both.length > 0) {
      inNamespaces(left, 'source', both);
      inNamespaces(right, 'destination', both);
    }
    for (const filter of [left, right]) checkNamespaces(filter, this.namespaces);
    return canonical(left) === canonical(right) ? [left] : [left, right];
  }
}

function append<F extends ListField>(filter: FlowFilter, field: F, value: Item<F>): FlowFilter {
  const list = (filter[field] ?? []) as Item<F>[];
  return { ...filter, [field]: [...list, value] };
}

/** Hubble's namespace modifier: pods and services without a namespace get each namespace; none at all means the whole namespace. */
function inNamespaces(filter: FlowFilter, side: 'source' | 'destination', namespaces: readonly string[]): void {
  const podField = side === 'source' ? 'source_pod' : 'destination_pod';
  const serviceField = side === 'source' ? 'source_service' : 'destination_service';
  if (!filter[podField]?.length && !filter[serviceField]?.length) filter[podField] = [''];
  for (const field of [podField, serviceField] as const) {
    const names = filter[field];
    if (!names?.length) continue;
    filter[field] = names.flatMap((name) => (name.includes('/') ? [name] : namespaces.map((ns) => `${ns}/${name}`)));
  }
}

function checkNamespaces(filter: FlowFilter, namespaces: FilterPair['namespaces']): void {
  const check = (allowed: string[], names: string[] | undefined) => {
    for (const ns of allowed) {
      for (const name of names ?? []) {
        const own = name.includes('/') ? name.split('/')[0] : '';
        if (own !== '' && own !== ns) throw new Error(`namespace conflict: "${ns}" does not contain "${name}"`);
      }
    }
  };
  check(namespaces.both, filter.source_pod);
  check(namespaces.both, filter.destination_pod);
  check(namespaces.both, filter.source_service);
  check(namespaces.both, filter.destination_service);
  check(namespaces.source, filter.source_pod);
  check(namespaces.source, filter.source_service);
  check(namespaces.destination, filter.destination_pod);
  check(namespaces.destination, filter.destination_service);
}

function canonical(filter: FlowFilter): string {
  return JSON.stringify(Object.fromEntries(Object.entries(filter).sort(([a], [b]) => a.localeCompare(b))));
}

/**
 * Turns filter flags, in the order given, into a GetFlows whitelist and
 * blacklist with Hubble's rules: a flag's values are ORed; different flags
 * are ANDed; a symmetric flag (`--pod x`) makes the pair "source x OR
 * destination x"; `--not` sends the next flag to the blacklist.
 */
export function createFilterBuilder() {
  const whitelist = new FilterPair();
  const blacklist = new FilterPair();
  let negateNext = false;

  function set(flag: FilterFlag, value: string): void {
    if (flag === 'not') {
      if (negateNext) throw new Error('consecutive --not statements');
      negateNext = true;
      return;
    }
    const pair = negateNext ? blacklist : whitelist;
    negateNext = false;
    pair.used.add(flag);
    for (const group of CONFLICTS) {
      const clash = group.filter((member) => pair.used.has(member));
      if (clash.length > 1) throw new Error(`filters --${clash[0]} and --${clash[1]} cannot be combined`);
    }
    apply(pair, flag, value);
  }

  return {
    set,
    result(): { whitelist: FlowFilter[]; blacklist: FlowFilter[] } {
      if (negateNext) throw new Error('--not must be followed by a filter flag, e.g. --not --verdict DROPPED');
      return { whitelist: whitelist.filters(), blacklist: blacklist.filters() };
    },
  } as const;
}

export type FilterBuilder = ReturnType<typeof createFilterBuilder>;

function apply(pair: FilterPair, flag: Exclude<FilterFlag, 'not'>, value: string): void {
  switch (flag) {
    case 'pod': return symmetric(pair, 'source_pod', 'destination_pod', value);
    case 'from-pod': return pair.add('both', 'source_pod', value);
    case 'to-pod': return pair.add('both', 'destination_pod', value);
    case 'namespace': pair.namespaces.both.push(namespaceName(flag, value)); return;
    case 'from-namespace': pair.namespaces.source.push(namespaceName(flag, value)); return;
    case 'to-namespace': pair.namespaces.destination.push(namespaceName(flag, value)); return;
    case 'ip': return symmetric(pair, 'source_ip', 'destination_ip', value);
    case 'from-ip': return pair.add('both', 'source_ip', value);
    case 'to-ip': return pair.add('both', 'destination_ip', value);
    case 'label': return symmetric(pair, 'source_label', 'destination_label', value);
    case 'from-label': return pair.add('both', 'source_label', value);
    case 'to-label': return pair.add('both', 'destination_label', value);
    case 'fqdn': return symmetric(pair, 'source_fqdn', 'destination_fqdn', value);
    case 'from-fqdn': return pair.add('both', 'source_fqdn', value);
    case 'to-fqdn': return pair.add('both', 'destination_fqdn', value);
    case 'service': return symmetric(pair, 'source_service', 'destination_service', value);
    case 'from-service': return pair.add('both', 'source_service', value);
    case 'to-service': return pair.add('both', 'destination_service', value);
    case 'workload': return symmetric(pair, 'source_workload', 'destination_workload', parseWorkload(value));
    case 'from-workload': return pair.add('both', 'source_workload', parseWorkload(value));
    case 'to-workload': return pair.add('both', 'destination_workload', parseWorkload(value));
    case 'identity': return symmetric(pair, 'source_identity', 'destination_identity', parseIdentity(value));
    case 'from-identity': return pair.add('both', 'source_identity', parseIdentity(value));
    case 'to-identity': return pair.add('both', 'destination_identity', parseIdentity(value));
    case 'port': return symmetric(pair, 'source_port', 'destination_port', value);
    case 'from-port': return pair.add('both', 'source_port', value);
    case 'to-port': return pair.add('both', 'destination_port', value);
    case 'verdict': {
      if (!(VERDICTS as readonly string[]).includes(value)) throw new Error(`invalid --verdict value: ${value}; expected one of ${VERDICTS.slice(1).join(', ')}`);
      return pair.add('both', 'verdict', value as Verdict);
    }
    case 'type': return pair.add('both', 'event_type', parseEventType(value));
    case 'protocol': return pair.add('both', 'protocol', value);
    case 'http-status': return pair.add('both', 'http_status_code', value);
    case 'http-method': return pair.add('both', 'http_method', value);
    case 'http-path': return pair.add('both', 'http_path', value);
    case 'tcp-flags': return pair.add('both', 'tcp_flags', parseTcpFlags(value));
    case 'node-name': return pair.add('both', 'node_name', value);
    case 'ipv4': return pair.add('both', 'ip_version', 'IPv4');
    case 'ipv6': return pair.add('both', 'ip_version', 'IPv6');
  }
}

function symmetric<S extends ListField, D extends ListField>(pair: FilterPair, source: S, destination: D, value: Item<S> & Item<D>): void {
  pair.add('left', source, value);
  pair.add('right', destination, value);
}

function namespaceName(flag: FilterFlag, text: string): string {
  const problem = namespaceNameProblem(text);
  if (problem !== undefined) throw new Error(`invalid --${flag} value: ${problem}`);
  return text;
}

/** `name` or `Kind/name` (`Deployment/` = every workload of that kind). */
function parseWorkload(text: string): WorkloadFilter {
  const slash = text.indexOf('/');
  if (slash < 0) return { name: text };
  const kind = text.slice(0, slash);
  const name = text.slice(slash + 1);
  return { ...(kind ? { kind } : {}), ...(name ? { name } : {}) };
}

function parseIdentity(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const reserved = (ReservedIdentity as Record<string, number>)[text];
  if (reserved !== undefined) return reserved;
  throw new Error(`invalid security identity '${text}', expected one of ${Object.keys(ReservedIdentity).join(', ')} or a numeric value`);
}

/** `trace`, `drop`, `l7`, `policy-verdict` or a number, optionally `:sub-type` (a trace point name such as `to-endpoint`, or a number). */
function parseEventType(text: string): { type: number; sub_type?: number } {
  const colon = text.indexOf(':');
  const typeText = colon < 0 ? text : text.slice(0, colon);
  const subText = colon < 0 ? undefined : text.slice(colon + 1);
  const type = EVENT_TYPE_NAMES[typeText] ?? (/^\d+$/.test(typeText) ? Number(typeText) : undefined);
  if (type === undefined) {
    throw new Error(`unable to parse type '${typeText}', not a known type name (${Object.keys(EVENT_TYPE_NAMES).join(', ')}) and not a number`);
  }
  if (subText === undefined) return { type };
  let subType: number | undefined;
  if (type === MonitorEventType.TRACE) {
    const entry = Object.entries(TRACE_SUB_TYPE_NAMES).find(([, name]) => name === subText);
    if (entry) subType = Number(entry[0]);
  }
  if (subType === undefined && /^\d+$/.test(subText)) subType = Number(subText);
  if (subType === undefined) {
    const names = type === MonitorEventType.TRACE ? ` (${Object.values(TRACE_SUB_TYPE_NAMES).join(', ')})` : '';
    throw new Error(`unable to parse event sub-type '${subText}', not a known sub-type name${names} and not a number`);
  }
  return { type, sub_type: subType };
}

const TCP_FLAGS = ['SYN', 'FIN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

/** `SYN,ACK`: a flow matches when all of these flags are set. */
function parseTcpFlags(text: string): TCPFlags {
  const flags: TCPFlags = {};
  for (const part of text.split(',')) {
    const flag = TCP_FLAGS.find((name) => name === part.toUpperCase());
    if (!flag) throw new Error(`unknown tcp flag: ${part}; expected one or more of ${TCP_FLAGS.join(',')}`);
    flags[flag] = true;
  }
  return flags;
}
