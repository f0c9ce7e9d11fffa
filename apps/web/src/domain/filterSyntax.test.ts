import { describe, expect, it } from 'vitest';
import { formatFilterTerm, parseFilterText, toFlowFilters, withinNamespace } from './filterSyntax.ts';

function filtersOf(text: string, verdict?: 'DROPPED') {
  const parsed = parseFilterText(text);
  expect(parsed.errors).toEqual([]);
  return toFlowFilters(parsed.terms, verdict);
}

describe('parseFilterText', () => {
  it('reads kind, side and negation', () => {
    expect(parseFilterText('!from:pod=default/echo to:ip=10.0.0.0/8 dns=www.google.com').terms).toEqual([
      { kind: 'pod', side: 'from', negated: true, value: 'default/echo' },
      { kind: 'ip', side: 'to', negated: false, value: '10.0.0.0/8' },
      { kind: 'dns', side: 'both', negated: false, value: 'www.google.com' },
    ]);
  });

  it('accepts "label key=val" with a space after the kind', () => {
    expect(parseFilterText('from:label k8s:app=echo').terms).toEqual([{ kind: 'label', side: 'from', negated: false, value: 'k8s:app=echo' }]);
    expect(parseFilterText('label=app=echo').terms[0]?.value).toBe('app=echo');
  });

  it('names the term and what was expected when a term cannot be read', () => {
    const { terms, errors } = parseFilterText('port=80 identity=abc tcp-flag=SYN,BOGUS echo');
    expect(terms).toEqual([]);
    expect(errors).toEqual([
      '"port=80": unknown kind "port", expected one of label, ip, dns, identity, workload, pod, tcp-flag',
      '"identity=abc": identity must be a number, got "abc"',
      '"tcp-flag=SYN,BOGUS": unknown TCP flag "BOGUS", expected SYN, ACK, FIN, RST, PSH, URG, ECE, CWR, NS',
      '"echo": expected [!][from:|to:]kind=value with kind one of label, ip, dns, identity, workload, pod, tcp-flag',
    ]);
  });

  it('formats a term back to its text', () => {
    const [term] = parseFilterText('!to:workload=Deployment/echo-a').terms;
    expect(term && formatFilterTerm(term)).toBe('!to:workload=Deployment/echo-a');
  });
});

describe('toFlowFilters', () => {
  it('passes everything for an empty bar', () => {
    expect(filtersOf('')).toEqual({ whitelist: [], blacklist: [] });
  });

  it('matches a term without side on either side (two filters)', () => {
    expect(filtersOf('pod=default/echo-a').whitelist).toEqual([{ source_pod: ['default/echo-a'] }, { destination_pod: ['default/echo-a'] }]);
  });

  it('puts from: and to: terms into one filter (AND)', () => {
    expect(filtersOf('from:label=app=client to:identity=300').whitelist).toEqual([{ source_label: ['app=client'], destination_identity: [300] }]);
  });

  it('ORs terms of the same kind and side, like repeated hubble flags', () => {
    expect(filtersOf('to:pod=a to:pod=b').whitelist).toEqual([{ destination_pod: ['a', 'b'] }]);
  });

  it('sends negated terms to the blacklist, on both sides unless restricted', () => {
    expect(filtersOf('!ip=10.0.0.1 !to:dns=*.google.com')).toEqual({
      whitelist: [],
      blacklist: [{ source_ip: ['10.0.0.1'] }, { destination_ip: ['10.0.0.1'] }, { destination_fqdn: ['*.google.com'] }],
    });
  });

  it('makes workload filters with an optional kind and TCP flag filters for the flow', () => {
    expect(filtersOf('from:workload=Deployment/echo-a tcp-flag=syn,ack').whitelist).toEqual([
      { source_workload: [{ kind: 'Deployment', name: 'echo-a' }], tcp_flags: [{ SYN: true, ACK: true }] },
    ]);
  });

  it('adds the verdict to every whitelist filter', () => {
    expect(filtersOf('pod=x', 'DROPPED').whitelist).toEqual([
      { source_pod: ['x'], verdict: ['DROPPED'] },
      { destination_pod: ['x'], verdict: ['DROPPED'] },
    ]);
    expect(filtersOf('', 'DROPPED').whitelist).toEqual([{ verdict: ['DROPPED'] }]);
  });

  it('expands terms without side of every kind into one filter per side combination', () => {
    expect(filtersOf('label=a=1 ip=1.1.1.1 dns=x identity=1 workload=w pod=p').whitelist).toHaveLength(64);
  });
});

describe('withinNamespace', () => {
  it('ANDs the namespace into each filter, on either side', () => {
    expect(withinNamespace({ whitelist: [{ source_label: ['app=x'] }], blacklist: [] }, 'default').whitelist).toEqual([
      { source_label: ['app=x,k8s:io.kubernetes.pod.namespace=default'] },
      { source_label: ['app=x'], destination_label: ['k8s:io.kubernetes.pod.namespace=default'] },
    ]);
  });

  it('leaves filters alone for all namespaces', () => {
    const filters = { whitelist: [], blacklist: [{ source_ip: ['1.1.1.1'] }] };
    expect(withinNamespace(filters, undefined)).toBe(filters);
  });
});
