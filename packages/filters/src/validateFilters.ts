import { TRAFFIC_DIRECTIONS, VERDICTS, type IPVersion, type TCPFlags, type TrafficDirection, type Verdict } from '@tycho/flow';
import { FilterError, shown, shownKey } from './filterError.ts';
import { FILTER_PROTOCOLS, FLOW_FILTER_FIELDS, type EventTypeFilter, type FlowFilter, type FlowFilterField, type WorkloadFilter } from './flowFilter.ts';
import { parseIpPrefix } from './ipMatcher.ts';
import { parseLabelSelector } from './labelSelector.ts';
import { compileRegex, MAX_REGEX_PROGRAM, regexProgramBound, RegexError } from './linearRegex.ts';
import { MAX_NAMESPACE_NAME_LENGTH, namespaceNameProblem } from './namespaceName.ts';
import { fqdnRegexSource, globRegexSource } from './patterns.ts';

/** Thrown by a value check with what is wrong; the caller adds where. */
class InvalidValue extends Error {}

/** What the checks of one filter list share: the RE2 instructions its patterns may still compile to. */
interface ListBudget {
  regexProgramLeft: number;
}

type ValueOf<F extends FlowFilterField> = NonNullable<FlowFilter[F]>[number];
type Check<T> = (value: unknown, budget: ListBudget) => T;

const IP_VERSIONS: readonly IPVersion[] = ['IP_NOT_USED', 'IPv4', 'IPv6'];
const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;
const FQDN = /^[-a-zA-Z0-9_.*]+$/;
const NODE_GLOB = /^[-a-zA-Z0-9_.*/]+$/;
const NAME_PREFIX = /^[-a-z0-9.]*$/;
/** Pod and service names are DNS-1123 subdomains. */
const MAX_NAME_LENGTH = 253;
const HTTP_STATUS = /^(?:[1-5][0-9]{2}|[1-5][0-9]?\+)$/;
const HTTP_METHOD = /^[A-Za-z]+$/;

function nonEmptyString(value: unknown, example: string): string {
  if (typeof value !== 'string') throw new InvalidValue(`${shown(value)} is not a string; expected e.g. ${example}`);
  if (value.trim() === '') throw new InvalidValue(`empty string; expected e.g. ${example}`);
  return value;
}

/**
 * Compiles `source` with the engine the filter will match with, spending
 * its size from the list's budget first, so that neither a pattern RE2
 * refuses nor one that would take long to compile gets further.
 */
function compileWithin(source: string, budget: ListBudget, text: string): void {
  const size = regexProgramBound(source);
  if (size > MAX_REGEX_PROGRAM) {
    throw new InvalidValue(
      `${shown(text)} is too large: it compiles to up to ${size} RE2 instructions, more than the ${MAX_REGEX_PROGRAM} a filter list may use (counted repetition such as {1000} copies what it repeats)`,
    );
  }
  if (size > budget.regexProgramLeft) {
    throw new InvalidValue(`${shown(text)} does not fit: the patterns of this filter list compile to more than ${MAX_REGEX_PROGRAM} RE2 instructions in all; use fewer or smaller ones`);
  }
  budget.regexProgramLeft -= size;
  try {
    compileRegex(source);
  } catch (err) {
    if (err instanceof RegexError) throw new InvalidValue(`${shown(text)} is not a valid regular expression (RE2 syntax, as Hubble's): ${err.message}`);
    throw err;
  }
}

function regex(value: unknown, budget: ListBudget, example: string): string {
  const text = nonEmptyString(value, example);
  compileWithin(text, budget, text);
  return text;
}

function namespacedName(value: unknown, what: string): string {
  const text = nonEmptyString(value, `default/${what}-a or kube-system/`);
  const slash = text.indexOf('/');
  const namespace = slash === -1 ? undefined : text.slice(0, slash);
  const name = slash === -1 ? text : text.slice(slash + 1);
  if (namespace !== undefined && namespace.length > MAX_NAMESPACE_NAME_LENGTH) {
    throw new InvalidValue(`${shown(text)}: namespace ${namespaceNameProblem(namespace)}`);
  }
  if ((namespace !== undefined && namespaceNameProblem(namespace) !== undefined) || !NAME_PREFIX.test(name)) {
    throw new InvalidValue(`${shown(text)} is not [namespace/]${what}-name-prefix; expected e.g. default/${what}-a or kube-system/`);
  }
  if (name.length > MAX_NAME_LENGTH) throw new InvalidValue(`${shown(text)}: the ${what} name prefix is ${name.length} characters long; a ${what} name has at most ${MAX_NAME_LENGTH}`);
  return text;
}

function uint(value: unknown, max: number, what: string): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > max) {
    throw new InvalidValue(`${shown(value)} is not ${what} (a whole number from 0 to ${max})`);
  }
  return number;
}

function enumName<T extends string>(value: unknown, names: readonly T[], what: string): T {
  if (typeof value === 'number' && names[value] !== undefined) return names[value];
  if (typeof value === 'string' && (names as readonly string[]).includes(value)) return value as T;
  throw new InvalidValue(`${shown(value)} is not ${what}; expected one of ${names.join(', ')}`);
}

function object(value: unknown, example: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidValue(`${shown(value)} is not an object; expected e.g. ${example}`);
  }
  return value as Record<string, unknown>;
}

function onlyKeys(record: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key in record) {
    if (Object.hasOwn(record, key) && !allowed.includes(key)) throw new InvalidValue(`unknown key '${shownKey(key)}'; expected ${allowed.join(', ')}`);
  }
}

const ip: Check<string> = (value) => {
  const text = nonEmptyString(value, '10.0.0.1 or 10.0.0.0/24');
  if (!parseIpPrefix(text)) throw new InvalidValue(`${shown(text)} is not an IP address or CIDR; expected e.g. 10.0.0.1, 10.0.0.0/24 or fd00::/64`);
  return text;
};

const label: Check<string> = (value) => {
  const text = nonEmptyString(value, 'k8s:app=echo-a');
  try {
    parseLabelSelector(text);
  } catch (err) {
    throw new InvalidValue(`${shown(text)} is not a label selector: ${(err as Error).message}`);
  }
  return text;
};

const fqdn: Check<string> = (value, budget) => {
  const text = nonEmptyString(value, '*.google.com');
  if (!FQDN.test(text)) throw new InvalidValue(`${shown(text)} is not a DNS name pattern; use letters, digits, '-', '.', '_' and '*' wildcards`);
  compileWithin(fqdnRegexSource(text), budget, text);
  return text;
};

const workload: Check<WorkloadFilter> = (value) => {
  const record = object(value, '{"name":"echo-a","kind":"Deployment"}');
  onlyKeys(record, ['name', 'kind']);
  const result: WorkloadFilter = {};
  for (const key of ['name', 'kind'] as const) {
    if (record[key] === undefined) continue;
    if (typeof record[key] !== 'string' || record[key] === '') throw new InvalidValue(`${key}: ${shown(record[key])} is not a non-empty string`);
    result[key] = record[key];
  }
  if (result.name === undefined && result.kind === undefined) throw new InvalidValue('needs name, kind or both');
  return result;
};

const identity: Check<number> = (value) => uint(value, 0xffffffff, 'a security identity');

const port: Check<string> = (value) => String(uint(value, 65_535, 'a port'));

const eventType: Check<EventTypeFilter> = (value) => {
  const record = object(value, '{"type":4} or {"type":1,"sub_type":133}');
  onlyKeys(record, ['type', 'sub_type']);
  if (record.type === undefined) throw new InvalidValue('type is required, e.g. {"type":4}');
  const result: EventTypeFilter = { type: uint(record.type, 255, 'an event type') };
  if (record.sub_type !== undefined) result.sub_type = uint(record.sub_type, 65_535, 'an event sub-type');
  return result;
};

const tcpFlags: Check<TCPFlags> = (value) => {
  const record = object(value, '{"SYN":true,"ACK":true}');
  onlyKeys(record, TCP_FLAG_NAMES);
  const result: TCPFlags = {};
  for (const name of TCP_FLAG_NAMES) {
    const flag = record[name];
    if (flag === undefined) continue;
    if (typeof flag !== 'boolean') throw new InvalidValue(`${name}: ${shown(flag)} is not true or false`);
    if (flag) result[name] = true;
  }
  if (Object.keys(result).length === 0) throw new InvalidValue('sets no flag; expected e.g. {"SYN":true}');
  return result;
};

const CHECKS: { [F in FlowFilterField]: Check<ValueOf<F>> } = {
  uuid: (value) => nonEmptyString(value, 'a flow uuid'),
  source_ip: ip,
  destination_ip: ip,
  source_pod: (value) => namespacedName(value, 'pod'),
  destination_pod: (value) => namespacedName(value, 'pod'),
  source_label: label,
  destination_label: label,
  source_fqdn: fqdn,
  destination_fqdn: fqdn,
  source_service: (value) => namespacedName(value, 'service'),
  destination_service: (value) => namespacedName(value, 'service'),
  source_workload: workload,
  destination_workload: workload,
  source_identity: identity,
  destination_identity: identity,
  verdict: (value): Verdict => enumName(value, VERDICTS, 'a verdict'),
  event_type: eventType,
  http_status_code: (value) => {
    const text = typeof value === 'number' ? String(value) : nonEmptyString(value, '404, 4+ or 40+');
    if (!HTTP_STATUS.test(text)) throw new InvalidValue(`${shown(value)} is not an HTTP status filter; expected e.g. 404, 4+ (any 4xx) or 40+`);
    return text;
  },
  http_method: (value) => {
    const text = nonEmptyString(value, 'GET');
    if (!HTTP_METHOD.test(text)) throw new InvalidValue(`${shown(text)} is not an HTTP method; expected e.g. GET`);
    return text;
  },
  http_path: (value, budget) => regex(value, budget, '/api/.*'),
  protocol: (value) => {
    const text = nonEmptyString(value, 'tcp').toLowerCase();
    if (!(FILTER_PROTOCOLS as readonly string[]).includes(text)) {
      throw new InvalidValue(`${shown(value)} is not a protocol; expected one of ${FILTER_PROTOCOLS.join(', ')}`);
    }
    return text;
  },
  source_port: port,
  destination_port: port,
  tcp_flags: tcpFlags,
  dns_query: (value, budget) => regex(value, budget, '.*\\.google\\.com'),
  node_name: (value, budget) => {
    const text = nonEmptyString(value, 'node-*');
    if (!NODE_GLOB.test(text)) throw new InvalidValue(`${shown(text)} is not a node name pattern; use letters, digits, '-', '.', '_', '/' and '*'`);
    compileWithin(globRegexSource(text), budget, text);
    return text;
  },
  ip_version: (value): IPVersion => enumName(value, IP_VERSIONS, 'an IP version'),
  traffic_direction: (value): TrafficDirection => enumName(value, TRAFFIC_DIRECTIONS, 'a traffic direction'),
  reply: (value) => {
    if (typeof value !== 'boolean') throw new InvalidValue(`${shown(value)} is not true or false`);
    return value;
  },
};

function isField(key: string): key is FlowFilterField {
  return (FLOW_FILTER_FIELDS as readonly string[]).includes(key);
}

function validateField<F extends FlowFilterField>(field: F, values: unknown, at: string, budget: ListBudget): ValueOf<F>[] {
  if (!Array.isArray(values)) {
    throw new FilterError(at, field, values, `${shown(values)} is not a list; every FlowFilter field takes a list, e.g. "${field}": [${shown(values)}]`);
  }
  return values.map((value, index) => {
    try {
      return CHECKS[field](value, budget);
    } catch (err) {
      if (err instanceof InvalidValue) throw new FilterError(`${at}[${index}]`, field, value, err.message);
      throw err;
    }
  });
}

/**
 * Checks filters that came from outside (JSON) and returns them as
 * `FlowFilter`s, with enum numbers turned into names and ports into strings.
 * Throws a `FilterError` naming the first bad value: `whitelist[0].source_ip[0]: "10.0.0.0/33" is not…`.
 * Regular expressions are compiled by RE2, within a budget for the list
 * (`MAX_REGEX_PROGRAM`); nothing is visited deeper than a FlowFilter goes,
 * so any JSON value gives an answer in time linear in its size.
 */
export function validateFilters(input: unknown, path = 'filters'): FlowFilter[] {
  if (!Array.isArray(input)) throw new FilterError(path, undefined, input, `${shown(input)} is not a list of FlowFilter objects; expected e.g. [{"verdict":["DROPPED"]}]`);
  const budget: ListBudget = { regexProgramLeft: MAX_REGEX_PROGRAM };
  return input.map((filter, index) => {
    const at = `${path}[${index}]`;
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
      throw new FilterError(at, undefined, filter, `${shown(filter)} is not a FlowFilter object`);
    }
    const result: FlowFilter = {};
    for (const [key, values] of Object.entries(filter as Record<string, unknown>)) {
      if (!isField(key)) {
        throw new FilterError(`${at}.${shownKey(key)}`, shownKey(key), values, `unknown field '${shownKey(key)}'; FlowFilter fields are ${FLOW_FILTER_FIELDS.join(', ')}`);
      }
      if (values === undefined) continue;
      (result as Record<string, unknown>)[key] = validateField(key, values, `${at}.${key}`, budget);
    }
    return result;
  });
}
