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

describe('compileFilters validation', () => {
  it('throws a FilterError that says which list the bad filter is in', () => {
    expect(() => compileFilters([], [{ source_ip: ['nope'] }])).toThrow(/^blacklist\[0\]\.source_ip\[0\]: "nope" is not an IP address or CIDR/);
  });
});
