import fc from 'fast-check';
import { FLOW_FILTER_FIELDS, type FlowFilterField } from '@tycho/filters';
import { deepJson, HOSTILE_REGEXES, hostileJsonValue, hostileString, notJson, PROTOTYPE_KEYS } from './hostileValues.ts';

/**
 * FlowFilter lists (Hubble's whitelist/blacklist) as a client sends them:
 * built on valid values of every field so that most inputs get past the
 * first checks, with hostile values, wrong types, prototype keys and deep
 * nesting mixed in.
 */

/** Values each field accepts (packages/filters/src/validateFilters.ts), and a few it must refuse politely. */
const VALID_VALUES: { readonly [F in FlowFilterField]: readonly unknown[] } = {
  uuid: ['node-1-1', 'node-2-dns-6'],
  source_ip: ['10.244.0.5', '10.0.0.0/8', 'fd00::/64', '0.0.0.0/0'],
  destination_ip: ['10.244.1.7', '10.244.0.0/16', '::1'],
  source_pod: ['default/pod-to-a', 'kube-system/', 'pod-to', 'default/'],
  destination_pod: ['default/echo-a', 'echo', 'kube-system/kube-dns'],
  source_label: ['k8s:app=pod-to-a', 'app in (a,b)', '!app', 'k8s:app'],
  destination_label: ['k8s:app=echo-a', 'app notin (x)', 'k8s:k8s-app=kube-dns'],
  source_fqdn: ['*.google.com', 'one.one.one.one'],
  destination_fqdn: ['www.google.com', '*'],
  source_service: ['default/echo-a', 'kube-system/'],
  destination_service: ['echo-b', 'default/'],
  source_workload: [{ name: 'pod-to-a' }, { kind: 'Deployment' }, { name: 'pod-to-a', kind: 'Deployment' }],
  destination_workload: [{ name: 'echo-a' }, { kind: 'DaemonSet' }],
  source_identity: [300, 1, 2, 256],
  destination_identity: [301, 4_294_967_295],
  verdict: ['FORWARDED', 'DROPPED', 'AUDIT', 1],
  event_type: [{ type: 4 }, { type: 1, sub_type: 133 }, { type: 129 }],
  http_status_code: ['404', '4+', '20+', '200'],
  http_method: ['GET', 'post'],
  http_path: ['/public', '^/api/.*', '.*', ...HOSTILE_REGEXES.slice(0, 6)],
  protocol: ['tcp', 'UDP', 'http', 'dns', 'icmpv6'],
  source_port: ['8080', '53', '0', '65535'],
  destination_port: ['8080', '443'],
  tcp_flags: [{ SYN: true }, { SYN: true, ACK: true }, { FIN: true }],
  dns_query: ['.*\\.google\\.com', 'one', ...HOSTILE_REGEXES.slice(0, 6)],
  node_name: ['node-*', 'node-1', '*'],
  ip_version: ['IPv4', 'IPv6', 1],
  traffic_direction: ['INGRESS', 'EGRESS', 'TRAFFIC_DIRECTION_UNKNOWN'],
  reply: [true, false],
};

/** One element of a field's list: mostly valid, sometimes anything. */
function fieldElement(field: FlowFilterField): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: fc.constantFrom(...VALID_VALUES[field]), weight: 4 }, { arbitrary: hostileJsonValue, weight: 1 });
}

/** A field's value: a list (the right shape), a bare element (the wrong shape), or a long list. */
function fieldValue(field: FlowFilterField): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.array(fieldElement(field), { minLength: 1, maxLength: 4 }), weight: 6 },
    { arbitrary: fieldElement(field), weight: 1 },
    { arbitrary: fc.integer({ min: 1_000, max: 5_000 }).map((count) => Array.from({ length: count }, () => VALID_VALUES[field][0])), weight: 1 },
  );
}

/** A FlowFilter object with a few fields, now and then with an unknown or prototype key. */
export const flowFilterObject: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.subarray([...FLOW_FILTER_FIELDS], { minLength: 0, maxLength: 3 }).chain((fields) => fc.tuple(...fields.map((field) => fieldValue(field).map((value) => [field, value] as const)))),
    fc.option(fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'pod', 'namespace', ''), hostileString), hostileJsonValue), { freq: 5 }),
  )
  .map(([entries, extra]) => {
    const filter: Record<string, unknown> = {};
    // defineProperty, so that a generated '__proto__' key is an own key as JSON.parse would make it.
    for (const [key, value] of extra ? [...entries, extra] : entries) Object.defineProperty(filter, key, { value, enumerable: true, writable: true, configurable: true });
    return filter;
  });

/** A whitelist/blacklist as JSON text: a list of filters, something else, or deep nesting (`min`…`max` levels). */
export function flowFilterListJson(depth: { min: number; max: number }): fc.Arbitrary<string> {
  const deep = fc.oneof(
    deepJson('[]', depth.min, depth.max),
    deepJson('"default/echo-a"', depth.min, depth.max).map((nested) => `[{"source_pod":${nested}}]`),
    deepJson('{"name":"echo-a"}', depth.min, depth.max).map((nested) => `[{"destination_workload":[${nested}]}]`),
    deepJson('{}', depth.min, depth.max).map((nested) => `[${nested}]`),
  );
  return fc.oneof(
    { arbitrary: fc.array(flowFilterObject, { maxLength: 3 }).map((list) => JSON.stringify(list)), weight: 8 },
    { arbitrary: hostileJsonValue.map((value) => JSON.stringify(value) ?? 'null'), weight: 1 },
    {
      arbitrary: fc.constantFrom(
        '[{"__proto__":{"source_pod":["default/"]}}]',
        '[{"constructor":{"prototype":{"polluted":true}}}]',
        '{"__proto__":[]}',
        '[{"source_workload":[{"__proto__":{"name":"x"}}]}]',
        '[{"event_type":[{"type":4,"sub_type":1e400}]}]',
        '[{"source_identity":[1e400]}]',
      ),
      weight: 1,
    },
    { arbitrary: deep, weight: 2 },
    { arbitrary: notJson, weight: 1 },
  );
}
