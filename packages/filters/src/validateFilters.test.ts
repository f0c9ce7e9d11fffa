import { describe, expect, it } from 'vitest';
import { compileFilters } from './compileFilters.ts';
import { FilterError } from './filterError.ts';
import type { FlowFilter } from './flowFilter.ts';
import { validateFilters } from './validateFilters.ts';

function errorOf(input: unknown, path = 'whitelist'): FilterError {
  try {
    validateFilters(input, path);
  } catch (err) {
    if (err instanceof FilterError) return err;
    throw err;
  }
  throw new Error('expected a FilterError');
}

describe('validateFilters', () => {
  it('returns valid filters, with enum numbers as names and ports as strings', () => {
    expect(validateFilters([{ verdict: [2], ip_version: [1], traffic_direction: [1], source_port: [8080], destination_port: ['53'] }])).toEqual([
      { verdict: ['DROPPED'], ip_version: ['IPv4'], traffic_direction: ['INGRESS'], source_port: ['8080'], destination_port: ['53'] },
    ]);
  });

  it('refuses something that is not a list', () => {
    expect(errorOf({ verdict: ['DROPPED'] }).message).toMatch(/^whitelist: .* is not a list of FlowFilter objects/);
  });

  it('refuses an entry that is not an object', () => {
    expect(errorOf(['verdict=DROPPED']).message).toMatch(/^whitelist\[0\]: "verdict=DROPPED" is not a FlowFilter object/);
  });

  it('names an unknown field', () => {
    const error = errorOf([{}, { source_podd: ['default/'] }]);
    expect(error.path).toBe('whitelist[1].source_podd');
    expect(error.field).toBe('source_podd');
    expect(error.message).toMatch(/unknown field 'source_podd'; FlowFilter fields are uuid, source_ip/);
  });

  it('wants every field as a list', () => {
    expect(errorOf([{ verdict: 'DROPPED' }]).message).toBe(
      'whitelist[0].verdict: "DROPPED" is not a list; every FlowFilter field takes a list, e.g. "verdict": ["DROPPED"]',
    );
  });

  it.each<[FlowFilter | Record<string, unknown>, RegExp]>([
    [{ source_ip: ['10.0.0.0/33'] }, /^whitelist\[0\]\.source_ip\[0\]: "10\.0\.0\.0\/33" is not an IP address or CIDR/],
    [{ destination_ip: ['10.0.0.256'] }, /destination_ip\[0\]: "10\.0\.0\.256" is not an IP address or CIDR/],
    [{ source_ip: [1234] }, /source_ip\[0\]: 1234 is not a string/],
    [{ source_pod: ['Default/Pod'] }, /source_pod\[0\]: "Default\/Pod" is not \[namespace\/\]pod-name-prefix/],
    [{ destination_pod: [''] }, /destination_pod\[0\]: empty string/],
    [{ source_label: ['app=(x'] }, /source_label\[0\]: "app=\(x" is not a label selector/],
    [{ destination_label: ['a=b,,c'] }, /destination_label\[0\]: .* empty requirement/],
    [{ source_fqdn: ['goo gle.com'] }, /source_fqdn\[0\]: "goo gle\.com" is not a DNS name pattern/],
    [{ destination_service: ['a/b/c'] }, /destination_service\[0\]: "a\/b\/c" is not \[namespace\/\]service-name-prefix/],
    [{ source_workload: [{}] }, /source_workload\[0\]: needs name, kind or both/],
    [{ destination_workload: [{ name: 'x', colour: 'red' }] }, /destination_workload\[0\]: unknown key 'colour'/],
    [{ source_identity: [-1] }, /source_identity\[0\]: -1 is not a security identity/],
    [{ verdict: ['ALLOWED'] }, /verdict\[0\]: "ALLOWED" is not a verdict; expected one of VERDICT_UNKNOWN, FORWARDED, DROPPED/],
    [{ event_type: [{ sub_type: 1 }] }, /event_type\[0\]: type is required/],
    [{ event_type: [{ type: 'trace' }] }, /event_type\[0\]: "trace" is not an event type/],
    [{ http_status_code: ['4xx'] }, /http_status_code\[0\]: "4xx" is not an HTTP status filter/],
    [{ http_method: ['GET /'] }, /http_method\[0\]: "GET \/" is not an HTTP method/],
    [{ http_path: ['(unclosed'] }, /http_path\[0\]: "\(unclosed" is not a valid regular expression/],
    [{ protocol: ['sctp2'] }, /protocol\[0\]: "sctp2" is not a protocol; expected one of tcp, udp, icmp, icmpv4, icmpv6, dns, http/],
    [{ source_port: ['http'] }, /source_port\[0\]: "http" is not a port/],
    [{ destination_port: [65536] }, /destination_port\[0\]: 65536 is not a port/],
    [{ tcp_flags: [{ SYN: 'yes' }] }, /tcp_flags\[0\]: SYN: "yes" is not true or false/],
    [{ tcp_flags: [{ SYNACK: true }] }, /tcp_flags\[0\]: unknown key 'SYNACK'/],
    [{ tcp_flags: [{}] }, /tcp_flags\[0\]: sets no flag/],
    [{ dns_query: ['*.google.com'] }, /dns_query\[0\]: "\*\.google\.com" is not a valid regular expression/],
    [{ node_name: ['node 1'] }, /node_name\[0\]: "node 1" is not a node name pattern/],
    [{ ip_version: ['v4'] }, /ip_version\[0\]: "v4" is not an IP version/],
    [{ traffic_direction: ['OUT'] }, /traffic_direction\[0\]: "OUT" is not a traffic direction/],
    [{ reply: ['true'] }, /reply\[0\]: "true" is not true or false/],
    [{ uuid: [7] }, /uuid\[0\]: 7 is not a string/],
  ])('refuses %j naming the field and the value', (filter, message) => {
    const error = errorOf([filter]);
    expect(error).toBeInstanceOf(FilterError);
    expect(error.message).toMatch(message);
    expect(error.field).toBe(Object.keys(filter)[0]);
  });
});

/** `['x']` nested `depth` levels deep: 5,000 levels is 10 KB of JSON. */
function nested(depth: number): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('validateFilters on hostile input', () => {
  it('answers a value nested 5,000 levels deep with a FilterError naming where it is', () => {
    const deep = nested(5000);
    expect(errorOf({ filters: deep }).message).toMatch(/^whitelist: \{"filters":\[\[.* is not a list of FlowFilter objects/);
    expect(errorOf([deep]).message).toMatch(/^whitelist\[0\]: \[\[\[.* is not a FlowFilter object/);
    expect(errorOf([{ source_ip: [deep] }]).message).toMatch(/^whitelist\[0\]\.source_ip\[0\]: \[\[\[.* is not a string/);
    expect(errorOf([{ verdict: deep }]).path).toBe('whitelist[0].verdict[0]');
    expect(errorOf([{ source_workload: [{ name: deep }] }]).path).toBe('whitelist[0].source_workload[0]');
  });

  it('keeps its messages short (the list of fields at most) whatever the size of the value', () => {
    const huge = [
      [{ uuid: [{ ['k'.repeat(100_000)]: 1 }] }],
      [{ source_ip: [Array.from({ length: 100_000 }, (_, i) => i)] }],
      [{ source_ip: ['1'.repeat(1_000_000)] }],
      [{ ['f'.repeat(100_000)]: [] }],
      [{ source_label: [`${'a'.repeat(100_000)}!`] }],
    ];
    for (const input of huge) expect(errorOf(input).message.length).toBeLessThan(1000);
  });

  it('refuses a pod filter whose namespace is longer than a namespace name can be', () => {
    const error = errorOf([{ source_pod: [`${'a'.repeat(8000)}/`] }]);
    expect(error.path).toBe('whitelist[0].source_pod[0]');
    expect(error.message).toMatch(/namespace 'a+…' is 8000 characters long; a namespace name has at most 63/);
    expect(validateFilters([{ destination_service: [`${'a'.repeat(63)}/echo`] }])).toEqual([{ destination_service: [`${'a'.repeat(63)}/echo`] }]);
  });

  it('refuses what RE2 refuses, backreferences and lookahead, naming the field', () => {
    expect(errorOf([{ http_path: ['(a)\\1'] }]).message).toMatch(
      /^whitelist\[0\]\.http_path\[0\]: "\(a\)\\\\1" is not a valid regular expression \(RE2 syntax, as Hubble's\): invalid escape sequence: `\\1`/,
    );
    expect(errorOf([{ dns_query: ['(?=google)'] }]).message).toMatch(/^whitelist\[0\]\.dns_query\[0\]: .* invalid or unsupported Perl syntax/);
    expect(validateFilters([{ http_path: ['^/api/v[0-9]+/(?i:users)$'], dns_query: ['\\pL+\\.com\\.$'] }])).toHaveLength(1);
  });

  it('refuses patterns that would compile to too many instructions, alone or together', () => {
    expect(errorOf([{ http_path: ['a{1000}'.repeat(20)] }]).message).toMatch(/^whitelist\[0\]\.http_path\[0\]: .* is too large: it compiles to up to \d+ RE2 instructions/);
    const manyBig = Array.from({ length: 20 }, () => ({ dns_query: ['x{1000}'] }));
    expect(errorOf(manyBig).message).toMatch(/^whitelist\[\d+\]\.dns_query\[0\]: "x\{1000\}" does not fit: the patterns of this filter list compile to more than 20000/);
    expect(validateFilters(manyBig.slice(0, 5))).toHaveLength(5);
  });
});

describe('compileFilters validation', () => {
  it('throws a FilterError that says which list the bad filter is in', () => {
    expect(() => compileFilters([], [{ source_ip: ['nope'] }])).toThrow(/^blacklist\[0\]\.source_ip\[0\]: "nope" is not an IP address or CIDR/);
  });
});
