import { TCP_FLAG_BITS, type Endpoint, type Flow, type Service, type TCPFlags } from '@tycho/flow';
import type { FilterProtocol, FlowFilter, FlowFilterField } from './flowFilter.ts';
import { compileIpMatcher } from './ipMatcher.ts';
import { matchesLabelSelector, parseLabelSelector } from './labelSelector.ts';
import { compileRegex } from './linearRegex.ts';
import { fqdnRegexSource, globRegexSource } from './patterns.ts';
import { validateFilters } from './validateFilters.ts';

export type FlowPredicate = (flow: Flow) => boolean;

const NS_BIT = 0x100;
const DEFAULT_NAMESPACE = 'default';

function tcpFlagBits(flags: TCPFlags | undefined): number {
  if (!flags) return 0;
  let bits = flags.NS ? NS_BIT : 0;
  for (const name in TCP_FLAG_BITS) {
    if (flags[name as keyof typeof TCP_FLAG_BITS]) bits |= TCP_FLAG_BITS[name as keyof typeof TCP_FLAG_BITS];
  }
  return bits;
}

/** `ns/prefix`, `ns/` (whole namespace) or `prefix` (in the default namespace). */
function namespacedNameMatcher(entries: readonly string[]): (namespace: string | undefined, name: string | undefined) => boolean {
  const parsed = entries.map((entry) => {
    const slash = entry.indexOf('/');
    return slash === -1 ? { namespace: DEFAULT_NAMESPACE, prefix: entry } : { namespace: entry.slice(0, slash), prefix: entry.slice(slash + 1) };
  });
  return (namespace, name) =>
    parsed.some((p) => p.namespace === namespace && (p.prefix === '' || (name !== undefined && name.startsWith(p.prefix))));
}

function sourceOf(flow: Flow): Endpoint | undefined {
  return flow.source;
}
function destinationOf(flow: Flow): Endpoint | undefined {
  return flow.destination;
}

function portsOf(flow: Flow): { source_port?: number; destination_port?: number } | undefined {
  return flow.l4?.TCP ?? flow.l4?.UDP;
}

/** The path of an HTTP URL as Hubble compares it: `/api?x=1` and `http://host/api` both give `/api`. */
function urlPath(url: string): string {
  if (url.startsWith('/')) return url.split(/[?#]/, 1)[0] ?? url;
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

const PROTOCOL_TESTS: Readonly<Record<FilterProtocol, FlowPredicate>> = {
  tcp: (flow) => flow.l4?.TCP !== undefined,
  udp: (flow) => flow.l4?.UDP !== undefined,
  icmp: (flow) => flow.l4?.ICMPv4 !== undefined || flow.l4?.ICMPv6 !== undefined,
  icmpv4: (flow) => flow.l4?.ICMPv4 !== undefined,
  icmpv6: (flow) => flow.l4?.ICMPv6 !== undefined,
  dns: (flow) => flow.l7?.dns !== undefined,
  http: (flow) => flow.l7?.http !== undefined,
};

function endpointSide(field: FlowFilterField): { side: (flow: Flow) => Endpoint | undefined; isSource: boolean } {
  const isSource = field.startsWith('source_');
  return { side: isSource ? sourceOf : destinationOf, isSource };
}

/** One field of one filter → a test of a flow (the field's values ORed). */
function compileField(field: FlowFilterField, filter: FlowFilter): FlowPredicate {
  const { side, isSource } = endpointSide(field);
  switch (field) {
    case 'uuid': {
      const uuids = new Set(filter.uuid);
      return (flow) => uuids.has(flow.uuid);
    }
    case 'source_ip':
    case 'destination_ip': {
      const matches = compileIpMatcher(filter[field] ?? []);
      return isSource ? (flow) => matches(flow.IP?.source) : (flow) => matches(flow.IP?.destination);
    }
    case 'source_pod':
    case 'destination_pod': {
      const matches = namespacedNameMatcher(filter[field] ?? []);
      return (flow) => {
        const endpoint = side(flow);
        return matches(endpoint?.namespace, endpoint?.pod_name);
      };
    }
    case 'source_service':
    case 'destination_service': {
      const matches = namespacedNameMatcher(filter[field] ?? []);
      return (flow) => {
        const service: Service | undefined = isSource ? flow.source_service : flow.destination_service;
        return service !== undefined && matches(service.namespace, service.name);
      };
    }
    case 'source_label':
    case 'destination_label': {
      const selectors = (filter[field] ?? []).map(parseLabelSelector);
      return (flow) => {
        const labels = side(flow)?.labels;
        return selectors.some((selector) => matchesLabelSelector(selector, labels));
      };
    }
    case 'source_fqdn':
    case 'destination_fqdn': {
      const patterns = (filter[field] ?? []).map((pattern) => compileRegex(fqdnRegexSource(pattern)));
      return (flow) => {
        const names = isSource ? flow.source_names : flow.destination_names;
        return names !== undefined && names.some((name) => {
          const normalized = name.replace(/\.$/, '').toLowerCase();
          return patterns.some((pattern) => pattern.test(normalized));
        });
      };
    }
    case 'source_workload':
    case 'destination_workload': {
      const wanted = filter[field] ?? [];
      return (flow) =>
        (side(flow)?.workloads ?? []).some((workload) =>
          wanted.some((w) => (w.name === undefined || w.name === workload.name) && (w.kind === undefined || w.kind === workload.kind)),
        );
    }
    case 'source_identity':
    case 'destination_identity': {
      const identities = new Set(filter[field]);
      return (flow) => {
        const identity = side(flow)?.identity;
        return identity !== undefined && identities.has(identity);
      };
    }
    case 'verdict': {
      const verdicts = new Set(filter.verdict);
      return (flow) => verdicts.has(flow.verdict);
    }
    case 'event_type': {
      const types = filter.event_type ?? [];
      return (flow) =>
        types.some((t) => t.type === flow.event_type.type && (t.sub_type === undefined || t.sub_type === (flow.event_type.sub_type ?? 0)));
    }
    case 'http_status_code': {
      const tests = (filter.http_status_code ?? []).map((code) =>
        code.endsWith('+') ? (status: string) => status.startsWith(code.slice(0, -1)) : (status: string) => status === code,
      );
      return (flow) => {
        const code = flow.l7?.http?.code;
        if (!code) return false;
        const status = String(code);
        return tests.some((test) => test(status));
      };
    }
    case 'http_method': {
      const methods = new Set((filter.http_method ?? []).map((m) => m.toUpperCase()));
      return (flow) => {
        const method = flow.l7?.http?.method;
        return method !== undefined && methods.has(method.toUpperCase());
      };
    }
    case 'http_path': {
      const patterns = (filter.http_path ?? []).map(compileRegex);
      return (flow) => {
        const url = flow.l7?.http?.url;
        if (url === undefined) return false;
        const path = urlPath(url);
        return patterns.some((pattern) => pattern.test(path));
      };
    }
    case 'protocol': {
      const tests = (filter.protocol ?? []).map((p) => PROTOCOL_TESTS[p.toLowerCase() as FilterProtocol]);
      return (flow) => tests.some((test) => test(flow));
    }
    case 'source_port':
    case 'destination_port': {
      const ports = new Set((filter[field] ?? []).map(Number));
      return (flow) => {
        const l4 = portsOf(flow);
        const port = isSource ? l4?.source_port : l4?.destination_port;
        return port !== undefined && ports.has(port);
      };
    }
    case 'tcp_flags': {
      const wanted = (filter.tcp_flags ?? []).map(tcpFlagBits);
      return (flow) => {
        const tcp = flow.l4?.TCP;
        if (!tcp) return false;
        const bits = tcpFlagBits(tcp.flags);
        return wanted.some((w) => (bits & w) === w);
      };
    }
    case 'dns_query': {
      const patterns = (filter.dns_query ?? []).map(compileRegex);
      return (flow) => {
        const query = flow.l7?.dns?.query;
        return query !== undefined && patterns.some((pattern) => pattern.test(query));
      };
    }
    case 'node_name': {
      const patterns = (filter.node_name ?? []).map((pattern) => compileRegex(globRegexSource(pattern)));
      return (flow) => patterns.some((pattern) => pattern.test(flow.node_name));
    }
    case 'ip_version': {
      const versions = new Set(filter.ip_version);
      return (flow) => flow.IP !== undefined && versions.has(flow.IP.ipVersion);
    }
    case 'traffic_direction': {
      const directions = new Set(filter.traffic_direction);
      return (flow) => flow.traffic_direction !== undefined && directions.has(flow.traffic_direction);
    }
    case 'reply': {
      const replies = new Set(filter.reply);
      return (flow) => flow.is_reply !== undefined && replies.has(flow.is_reply);
    }
  }
}

/** All set fields of one filter ANDed; an empty filter matches every flow. */
function compileFilter(filter: FlowFilter): FlowPredicate {
  const tests = (Object.keys(filter) as FlowFilterField[]).filter((field) => filter[field] !== undefined).map((field) => compileField(field, filter));
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0] as FlowPredicate;
  return (flow) => {
    for (const test of tests) if (!test(flow)) return false;
    return true;
  };
}

/**
 * Hubble's GetFlows filtering, compiled once: a flow passes when it matches
 * any whitelist filter (an empty whitelist lets everything through) and no
 * blacklist filter. Validates first; throws a `FilterError` for a bad filter.
 * Regular expressions are compiled here, once, by RE2 (linear-time matching).
 */
export function compileFilters(whitelist: readonly FlowFilter[] = [], blacklist: readonly FlowFilter[] = []): FlowPredicate {
  const allowed = validateFilters(whitelist, 'whitelist').map(compileFilter);
  const denied = validateFilters(blacklist, 'blacklist').map(compileFilter);
  if (allowed.length === 0 && denied.length === 0) return () => true;
  return (flow) => {
    if (allowed.length > 0) {
      let any = false;
      for (const test of allowed) {
        if (test(flow)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    for (const test of denied) if (test(flow)) return false;
    return true;
  };
}
