import { describe, expect, it } from 'vitest';
import type { Flow } from '@tycho/flow';
import { compileFilters } from './compileFilters.ts';
import type { FlowFilter } from './flowFilter.ts';

/** pod-to-a (node-1) → echo-a:8080 over TCP SYN, forwarded, egress. */
function flow(overrides: Partial<Flow> = {}): Flow {
  return {
    time: '2024-01-01T00:00:01Z',
    uuid: 'uuid-1',
    verdict: 'FORWARDED',
    IP: { source: '10.244.0.5', destination: '10.244.1.7', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 51234, destination_port: 8080, flags: { SYN: true } } },
    source: {
      identity: 300,
      namespace: 'default',
      labels: ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=pod-to-a'],
      pod_name: 'pod-to-a-5f7c9-abcde',
      workloads: [{ name: 'pod-to-a', kind: 'Deployment' }],
    },
    destination: {
      identity: 301,
      namespace: 'default',
      labels: ['k8s:io.kubernetes.pod.namespace=default', 'k8s:name=echo-a', 'container:name=other'],
      pod_name: 'echo-a-6d9c8-fghij',
      workloads: [{ name: 'echo-a', kind: 'Deployment' }],
    },
    Type: 'L3_L4',
    node_name: 'node-1',
    event_type: { type: 4, sub_type: 5 },
    traffic_direction: 'EGRESS',
    is_reply: false,
    ...overrides,
  };
}

const world: Flow = flow({
  uuid: 'uuid-world',
  IP: { source: '10.244.0.9', destination: '192.0.2.10', ipVersion: 'IPv4' },
  destination: { identity: 2, labels: ['reserved:world'] },
  destination_names: ['www.google.com.'],
});
const dns: Flow = flow({
  uuid: 'uuid-dns',
  l4: { UDP: { source_port: 40000, destination_port: 53 } },
  l7: { type: 'REQUEST', dns: { query: 'www.google.com.', qtypes: ['A'] } },
  Type: 'L7',
});
const http: Flow = flow({
  uuid: 'uuid-http',
  Type: 'L7',
  l7: { type: 'RESPONSE', http: { code: 404, method: 'GET', url: 'http://echo-a:8080/public?x=1', protocol: 'HTTP/1.1' } },
});
const icmp6: Flow = flow({
  uuid: 'uuid-icmp6',
  IP: { source: 'fd00::5', destination: 'fd00:0:0:1::7', ipVersion: 'IPv6' },
  l4: { ICMPv6: { type: 128, code: 0 } },
});

const matches = (filter: FlowFilter, f: Flow = flow()) => compileFilters([filter])(f);

describe('compileFilters: combination rules', () => {
  it('lets every flow through with no filters', () => {
    expect(compileFilters()(flow())).toBe(true);
    expect(compileFilters([], [])(world)).toBe(true);
  });

  it('lets every flow through an empty filter', () => {
    expect(matches({})).toBe(true);
  });

  it('ANDs the fields of one filter', () => {
    expect(matches({ verdict: ['FORWARDED'], destination_port: ['8080'] })).toBe(true);
    expect(matches({ verdict: ['FORWARDED'], destination_port: ['53'] })).toBe(false);
  });

  it('ORs the values of one field', () => {
    expect(matches({ verdict: ['DROPPED', 'FORWARDED'] })).toBe(true);
    expect(matches({ verdict: ['DROPPED', 'ERROR'] })).toBe(false);
  });

  it('passes a flow that matches any whitelist filter', () => {
    const test = compileFilters([{ verdict: ['DROPPED'] }, { destination_port: ['8080'] }]);
    expect(test(flow())).toBe(true);
    expect(test(dns)).toBe(false);
  });

  it('drops a flow that matches any blacklist filter, even when whitelisted', () => {
    const test = compileFilters([{ source_pod: ['default/'] }], [{ destination_ip: ['192.0.2.0/24'] }, { protocol: ['dns'] }]);
    expect(test(flow())).toBe(true);
    expect(test(world)).toBe(false);
    expect(test(dns)).toBe(false);
  });

  it('with only a blacklist, passes everything else', () => {
    const test = compileFilters([], [{ verdict: ['FORWARDED'] }]);
    expect(test(flow())).toBe(false);
    expect(test(flow({ verdict: 'DROPPED' }))).toBe(true);
  });
});

describe('compileFilters: fields', () => {
  it('uuid', () => {
    expect(matches({ uuid: ['uuid-1'] })).toBe(true);
    expect(matches({ uuid: ['uuid-2'] })).toBe(false);
  });

  it('source_ip / destination_ip: addresses and CIDRs, IPv4 and IPv6', () => {
    expect(matches({ source_ip: ['10.244.0.5'] })).toBe(true);
    expect(matches({ source_ip: ['10.244.0.0/24'] })).toBe(true);
    expect(matches({ source_ip: ['10.244.1.0/24'] })).toBe(false);
    expect(matches({ destination_ip: ['10.0.0.0/8'] })).toBe(true);
    expect(matches({ destination_ip: ['10.244.0.5'] })).toBe(false);
    expect(matches({ source_ip: ['fd00::/64'] }, icmp6)).toBe(true);
    expect(matches({ destination_ip: ['fd00:0:0:1:0:0:0:7'] }, icmp6)).toBe(true);
    expect(matches({ destination_ip: ['fd00::/64'] }, icmp6)).toBe(false);
    expect(matches({ source_ip: ['0.0.0.0/0'] }, icmp6)).toBe(false);
  });

  it('source_pod / destination_pod: namespace/prefix, whole namespace, default namespace', () => {
    expect(matches({ source_pod: ['default/pod-to-a'] })).toBe(true);
    expect(matches({ source_pod: ['default/'] })).toBe(true);
    expect(matches({ source_pod: ['pod-to-a'] })).toBe(true);
    expect(matches({ source_pod: ['kube-system/'] })).toBe(false);
    expect(matches({ destination_pod: ['default/echo-a-6d9c8'] })).toBe(true);
    expect(matches({ destination_pod: ['default/echo-b'] })).toBe(false);
    expect(matches({ destination_pod: ['default/'] }, world)).toBe(false);
  });

  it('source_label / destination_label: selectors, with or without a label source', () => {
    expect(matches({ source_label: ['k8s:name=pod-to-a'] })).toBe(true);
    expect(matches({ source_label: ['name=pod-to-a'] })).toBe(true);
    expect(matches({ source_label: ['any:name=pod-to-a'] })).toBe(true);
    expect(matches({ source_label: ['container:name=pod-to-a'] })).toBe(false);
    expect(matches({ destination_label: ['name in (echo-a, echo-b)'] })).toBe(true);
    expect(matches({ destination_label: ['name notin (echo-a)'] })).toBe(false);
    expect(matches({ destination_label: ['k8s:name!=echo-b'] })).toBe(true);
    expect(matches({ destination_label: ['name, !app'] })).toBe(true);
    expect(matches({ destination_label: ['k8s:name=echo-a,app=x'] })).toBe(false);
    expect(matches({ destination_label: ['reserved:world'] }, world)).toBe(true);
  });

  it('source_fqdn / destination_fqdn: wildcards, case and the trailing dot ignored', () => {
    expect(matches({ destination_fqdn: ['*.google.com'] }, world)).toBe(true);
    expect(matches({ destination_fqdn: ['WWW.Google.com.'] }, world)).toBe(true);
    expect(matches({ destination_fqdn: ['*.example.com'] }, world)).toBe(false);
    expect(matches({ source_fqdn: ['*'] }, world)).toBe(false);
  });

  it('source_service / destination_service', () => {
    const viaService = flow({ destination_service: { name: 'echo-a', namespace: 'default' } });
    expect(matches({ destination_service: ['default/echo-a'] }, viaService)).toBe(true);
    expect(matches({ destination_service: ['echo'] }, viaService)).toBe(true);
    expect(matches({ destination_service: ['kube-system/'] }, viaService)).toBe(false);
    expect(matches({ source_service: ['default/'] }, viaService)).toBe(false);
  });

  it('source_workload / destination_workload: name, kind or both', () => {
    expect(matches({ source_workload: [{ name: 'pod-to-a' }] })).toBe(true);
    expect(matches({ source_workload: [{ kind: 'Deployment' }] })).toBe(true);
    expect(matches({ destination_workload: [{ name: 'echo-a', kind: 'DaemonSet' }] })).toBe(false);
    expect(matches({ destination_workload: [{ name: 'echo-b' }, { name: 'echo-a', kind: 'Deployment' }] })).toBe(true);
  });

  it('source_identity / destination_identity', () => {
    expect(matches({ source_identity: [300] })).toBe(true);
    expect(matches({ destination_identity: [2] }, world)).toBe(true);
    expect(matches({ destination_identity: [300] })).toBe(false);
  });

  it('verdict', () => {
    expect(matches({ verdict: ['DROPPED'] }, flow({ verdict: 'DROPPED' }))).toBe(true);
    expect(matches({ verdict: ['DROPPED'] })).toBe(false);
  });

  it('event_type: type, and sub-type when given', () => {
    expect(matches({ event_type: [{ type: 4 }] })).toBe(true);
    expect(matches({ event_type: [{ type: 4, sub_type: 5 }] })).toBe(true);
    expect(matches({ event_type: [{ type: 4, sub_type: 0 }] })).toBe(false);
    expect(matches({ event_type: [{ type: 4, sub_type: 0 }] }, flow({ event_type: { type: 4 } }))).toBe(true);
    expect(matches({ event_type: [{ type: 1 }] })).toBe(false);
  });

  it('event_type 5 (--type policy-verdict) selects policy verdicts, by direction as sub-type', () => {
    const verdict = flow({ event_type: { type: 5, sub_type: 2 }, traffic_direction: 'EGRESS', policy_match_type: 2 });
    expect(matches({ event_type: [{ type: 5 }] }, verdict)).toBe(true);
    expect(matches({ event_type: [{ type: 5, sub_type: 2 }] }, verdict)).toBe(true);
    expect(matches({ event_type: [{ type: 5, sub_type: 1 }] }, verdict)).toBe(false);
    expect(matches({ event_type: [{ type: 5 }] })).toBe(false);
  });

  it('http_status_code: exact and prefix forms, only on HTTP flows', () => {
    expect(matches({ http_status_code: ['404'] }, http)).toBe(true);
    expect(matches({ http_status_code: ['4+'] }, http)).toBe(true);
    expect(matches({ http_status_code: ['40+'] }, http)).toBe(true);
    expect(matches({ http_status_code: ['41+', '5+'] }, http)).toBe(false);
    expect(matches({ http_status_code: ['4+'] })).toBe(false);
  });

  it('http_method, case-insensitively', () => {
    expect(matches({ http_method: ['get'] }, http)).toBe(true);
    expect(matches({ http_method: ['POST'] }, http)).toBe(false);
    expect(matches({ http_method: ['GET'] })).toBe(false);
  });

  it('http_path: a regular expression over the URL path', () => {
    expect(matches({ http_path: ['^/public$'] }, http)).toBe(true);
    expect(matches({ http_path: ['^/private'] }, http)).toBe(false);
  });

  it('http_path: searches anywhere in the path, as Go’s MatchString', () => {
    expect(matches({ http_path: ['ubli'] }, http)).toBe(true);
  });

  it('http_path: matches in time linear in the path (RE2), even (a+)+$ against 5,000 a’s and a !', () => {
    const withPath = (path: string) => flow({ Type: 'L7', l7: { type: 'REQUEST', http: { code: 0, method: 'GET', url: path } } });
    expect(matches({ http_path: ['(a+)+$'] }, withPath(`/${'a'.repeat(5000)}!`))).toBe(false);
    expect(matches({ http_path: ['(a+)+$'] }, withPath('/aaa'))).toBe(true);
  });

  it('protocol', () => {
    expect(matches({ protocol: ['tcp'] })).toBe(true);
    expect(matches({ protocol: ['UDP'] }, dns)).toBe(true);
    expect(matches({ protocol: ['dns'] }, dns)).toBe(true);
    expect(matches({ protocol: ['http'] }, http)).toBe(true);
    expect(matches({ protocol: ['icmp'] }, icmp6)).toBe(true);
    expect(matches({ protocol: ['icmpv6'] }, icmp6)).toBe(true);
    expect(matches({ protocol: ['icmpv4'] }, icmp6)).toBe(false);
    expect(matches({ protocol: ['udp', 'dns', 'http'] })).toBe(false);
  });

  it('source_port / destination_port, TCP and UDP', () => {
    expect(matches({ source_port: ['51234'] })).toBe(true);
    expect(matches({ destination_port: ['53'] }, dns)).toBe(true);
    expect(matches({ destination_port: ['8080'] }, icmp6)).toBe(false);
  });

  it('tcp_flags: an entry matches when all its flags are set', () => {
    const synAck = flow({ l4: { TCP: { source_port: 8080, destination_port: 51234, flags: { SYN: true, ACK: true } } } });
    expect(matches({ tcp_flags: [{ SYN: true }] }, synAck)).toBe(true);
    expect(matches({ tcp_flags: [{ SYN: true, ACK: true }] }, synAck)).toBe(true);
    expect(matches({ tcp_flags: [{ SYN: true, ACK: true }] })).toBe(false);
    expect(matches({ tcp_flags: [{ FIN: true }, { SYN: true }] })).toBe(true);
    expect(matches({ tcp_flags: [{ SYN: true }] }, dns)).toBe(false);
  });

  it('dns_query: a regular expression over the query', () => {
    expect(matches({ dns_query: ['google\\.com\\.$'] }, dns)).toBe(true);
    expect(matches({ dns_query: ['^one\\.'] }, dns)).toBe(false);
    expect(matches({ dns_query: ['.*'] })).toBe(false);
  });

  it('dns_query: matches in time linear in the query (RE2), even (a|aa)+$ against 5,000 a’s and a dot', () => {
    const withQuery = (query: string) => flow({ Type: 'L7', l7: { type: 'REQUEST', dns: { query } } });
    expect(matches({ dns_query: ['^(a|aa)+$'] }, withQuery(`${'a'.repeat(5000)}.`))).toBe(false);
    expect(matches({ dns_query: ['^(a|aa)+\\.$'] }, withQuery(`${'a'.repeat(5000)}.`))).toBe(true);
  });

  it('node_name: globs, in any cluster when none is named', () => {
    expect(matches({ node_name: ['node-*'] })).toBe(true);
    expect(matches({ node_name: ['node-2'] })).toBe(false);
    expect(matches({ node_name: ['node-*'] }, flow({ node_name: 'lab/node-1' }))).toBe(true);
    expect(matches({ node_name: ['other/node-*'] }, flow({ node_name: 'lab/node-1' }))).toBe(false);
  });

  it('node_name and *_fqdn wildcards match in linear time, however many stars a pattern has', () => {
    expect(matches({ node_name: ['*a*a*a*a*a*a*a*a*z'] }, flow({ node_name: 'a'.repeat(200) }))).toBe(false);
    const farAway = flow({ destination_names: [`${'a.'.repeat(120)}b`] });
    expect(matches({ destination_fqdn: ['*.*.*.*.*.*.*.*.*.*.z'] }, farAway)).toBe(false);
    expect(matches({ destination_fqdn: ['*.*.*.*.*.*.*.*.*.*.b'] }, farAway)).toBe(true);
  });

  it('ip_version', () => {
    expect(matches({ ip_version: ['IPv4'] })).toBe(true);
    expect(matches({ ip_version: ['IPv6'] })).toBe(false);
    expect(matches({ ip_version: ['IPv6'] }, icmp6)).toBe(true);
  });

  it('traffic_direction', () => {
    expect(matches({ traffic_direction: ['EGRESS'] })).toBe(true);
    expect(matches({ traffic_direction: ['INGRESS'] })).toBe(false);
  });

  it('reply: flows whose reply flag is unknown match neither value', () => {
    expect(matches({ reply: [false] })).toBe(true);
    expect(matches({ reply: [true] })).toBe(false);
    const { is_reply: _unknown, ...withoutReply } = flow();
    expect(matches({ reply: [true, false] }, withoutReply)).toBe(false);
  });
});
