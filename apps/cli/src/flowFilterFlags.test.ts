import { describe, expect, it } from 'vitest';
import { createFilterBuilder, type FilterFlag } from './flowFilterFlags.ts';

function build(...flags: [FilterFlag, string?][]) {
  const builder = createFilterBuilder();
  for (const [flag, value] of flags) builder.set(flag, value ?? '');
  return builder.result();
}
const whitelist = (...flags: [FilterFlag, string?][]) => build(...flags).whitelist;

describe('filter flags → FlowFilters', () => {
  it('builds no filters without filter flags', () => {
    expect(build()).toEqual({ whitelist: [], blacklist: [] });
  });

  it.each([
    ['pod', 'default/echo-a', 'source_pod', 'destination_pod'],
    ['ip', '10.244.0.5', 'source_ip', 'destination_ip'],
    ['label', 'k8s:app=echo', 'source_label', 'destination_label'],
    ['fqdn', '*.google.com', 'source_fqdn', 'destination_fqdn'],
    ['service', 'default/echo-a', 'source_service', 'destination_service'],
    ['port', '8080', 'source_port', 'destination_port'],
  ] as const)('--%s x builds two filters: source x OR destination x', (flag, value, source, destination) => {
    expect(whitelist([flag, value])).toEqual([{ [source]: [value] }, { [destination]: [value] }]);
  });

  it.each([
    ['from-pod', 'echo-a', { source_pod: ['echo-a'] }],
    ['to-pod', 'echo-a', { destination_pod: ['echo-a'] }],
    ['from-ip', '10.0.0.0/8', { source_ip: ['10.0.0.0/8'] }],
    ['to-ip', '10.0.0.1', { destination_ip: ['10.0.0.1'] }],
    ['from-label', 'app=a', { source_label: ['app=a'] }],
    ['to-label', 'app=a', { destination_label: ['app=a'] }],
    ['from-fqdn', 'one.one.one.one', { source_fqdn: ['one.one.one.one'] }],
    ['to-fqdn', '*.google.com', { destination_fqdn: ['*.google.com'] }],
    ['from-service', 'kube-system/kube-dns', { source_service: ['kube-system/kube-dns'] }],
    ['to-service', 'echo-a', { destination_service: ['echo-a'] }],
    ['from-workload', 'Deployment/echo-a', { source_workload: [{ kind: 'Deployment', name: 'echo-a' }] }],
    ['to-workload', 'echo-a', { destination_workload: [{ name: 'echo-a' }] }],
    ['from-identity', 'world', { source_identity: [2] }],
    ['to-identity', '12345', { destination_identity: [12345] }],
    ['from-port', '53', { source_port: ['53'] }],
    ['to-port', '8080', { destination_port: ['8080'] }],
    ['from-namespace', 'kube-system', { source_pod: ['kube-system/'] }],
    ['to-namespace', 'kube-system', { destination_pod: ['kube-system/'] }],
    ['verdict', 'DROPPED', { verdict: ['DROPPED'] }],
    ['type', 'drop', { event_type: [{ type: 1 }] }],
    ['type', 'trace:to-endpoint', { event_type: [{ type: 4, sub_type: 0 }] }],
    ['type', 'trace:from-network', { event_type: [{ type: 4, sub_type: 10 }] }],
    ['type', 'policy-verdict', { event_type: [{ type: 5 }] }],
    ['type', 'l7', { event_type: [{ type: 129 }] }],
    ['type', 'drop:133', { event_type: [{ type: 1, sub_type: 133 }] }],
    ['protocol', 'udp', { protocol: ['udp'] }],
    ['http-status', '4+', { http_status_code: ['4+'] }],
    ['http-method', 'GET', { http_method: ['GET'] }],
    ['http-path', '/public.*', { http_path: ['/public.*'] }],
    ['tcp-flags', 'syn,ack', { tcp_flags: [{ SYN: true, ACK: true }] }],
    ['node-name', 'node-*', { node_name: ['node-*'] }],
    ['ipv4', '', { ip_version: ['IPv4'] }],
    ['ipv6', '', { ip_version: ['IPv6'] }],
  ] as const)('--%s %s builds one filter', (flag, value, filter) => {
    expect(whitelist([flag, value])).toEqual([filter]);
  });

  it('--workload x matches either side', () => {
    expect(whitelist(['workload', 'echo-a'])).toEqual([{ source_workload: [{ name: 'echo-a' }] }, { destination_workload: [{ name: 'echo-a' }] }]);
  });

  it('--identity accepts reserved names on either side', () => {
    expect(whitelist(['identity', 'host'])).toEqual([{ source_identity: [1] }, { destination_identity: [1] }]);
  });

  it('-n ns matches pods of the namespace on either side', () => {
    expect(whitelist(['namespace', 'kube-system'])).toEqual([{ source_pod: ['kube-system/'] }, { destination_pod: ['kube-system/'] }]);
  });

  it('-n ns puts pods named without a namespace into it', () => {
    expect(whitelist(['namespace', 'kube-system'], ['pod', 'coredns'])).toEqual([{ source_pod: ['kube-system/coredns'] }, { destination_pod: ['kube-system/coredns'] }]);
  });

  it('ORs repeated values of one flag', () => {
    expect(whitelist(['verdict', 'DROPPED'], ['verdict', 'ERROR'])).toEqual([{ verdict: ['DROPPED', 'ERROR'] }]);
  });

  it('ANDs different flags, on both sides of a symmetric flag', () => {
    expect(whitelist(['pod', 'echo-a'], ['verdict', 'DROPPED'])).toEqual([
      { source_pod: ['echo-a'], verdict: ['DROPPED'] },
      { destination_pod: ['echo-a'], verdict: ['DROPPED'] },
    ]);
  });

  it('ANDs --from-x and --to-y into one filter', () => {
    expect(whitelist(['from-pod', 'pod-to-a'], ['to-pod', 'echo-a'])).toEqual([{ source_pod: ['pod-to-a'], destination_pod: ['echo-a'] }]);
  });

  it('--not sends only the next flag to the blacklist', () => {
    expect(build(['not', ''], ['verdict', 'FORWARDED'], ['pod', 'echo-a'])).toEqual({
      whitelist: [{ source_pod: ['echo-a'] }, { destination_pod: ['echo-a'] }],
      blacklist: [{ verdict: ['FORWARDED'] }],
    });
  });

  it('--not with a symmetric flag blacklists both sides', () => {
    expect(build(['not', ''], ['namespace', 'kube-system']).blacklist).toEqual([{ source_pod: ['kube-system/'] }, { destination_pod: ['kube-system/'] }]);
  });

  it('refuses consecutive --not', () => {
    expect(() => build(['not', ''], ['not', ''])).toThrow('consecutive --not statements');
  });

  it('refuses a trailing --not', () => {
    expect(() => build(['not', ''])).toThrow(/--not must be followed by a filter flag/);
  });

  it('refuses flags Hubble cannot combine', () => {
    expect(() => build(['pod', 'a'], ['from-ip', '10.0.0.1'])).toThrow('filters --from-ip and --pod cannot be combined');
  });

  it('allows a conflicting pair when one of them is negated', () => {
    expect(build(['label', 'app=a'], ['not', ''], ['from-label', 'app=b']).blacklist).toEqual([{ source_label: ['app=b'] }]);
  });

  it('refuses a pod in another namespace than -n', () => {
    expect(() => build(['namespace', 'kube-system'], ['pod', 'default/echo-a'])).toThrow('namespace conflict: "kube-system" does not contain "default/echo-a"');
  });

  it.each(['namespace', 'from-namespace', 'to-namespace'] as const)('refuses a --%s that is not a namespace name, or longer than 63 characters', (flag) => {
    expect(() => build([flag, 'Kube_System'])).toThrow(`invalid --${flag} value: 'Kube_System' is not a namespace name`);
    expect(() => build([flag, 'a'.repeat(8000)])).toThrow(`invalid --${flag} value: '${'a'.repeat(40)}…' is 8000 characters long; a namespace name has at most 63`);
  });

  it.each([
    ['verdict', 'DROP', /invalid --verdict value: DROP/],
    ['type', 'bogus', /unable to parse type 'bogus'/],
    ['type', 'trace:to-nowhere', /unable to parse event sub-type 'to-nowhere'/],
    ['tcp-flags', 'SYN,BOGUS', /unknown tcp flag: BOGUS/],
    ['identity', 'nobody', /invalid security identity 'nobody'/],
  ] as const)('refuses --%s %s', (flag, value, error) => {
    expect(() => build([flag, value])).toThrow(error);
  });
});
