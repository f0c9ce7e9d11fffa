import { describe, expect, it } from 'vitest';
import { describeSelector } from './endpointSelector.ts';
import { parsePolicy } from './parsePolicy.ts';
import { PolicyError } from './policyError.ts';
import type { Peer } from './policyModel.ts';

/** The scoped selector of a selector peer, described. */
function selectorText(peer: Peer | undefined): string {
  if (peer?.kind !== 'selector') throw new Error(`expected a selector peer, got ${peer?.kind}`);
  return describeSelector(peer.selector);
}

function cnp(spec: unknown, metadata: Record<string, unknown> = { name: 'p', namespace: 'team' }): unknown {
  return { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata, spec };
}

function errorOf(raw: unknown): PolicyError {
  try {
    parsePolicy(raw);
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('expected a PolicyError');
}

describe('parsePolicy: translation', () => {
  it('scopes a CiliumNetworkPolicy’s endpointSelector to its namespace', () => {
    const policy = parsePolicy(cnp({ endpointSelector: { matchLabels: { app: 'a' } }, egress: [{}] }));
    expect(policy.ref).toEqual({ kind: 'CiliumNetworkPolicy', namespace: 'team', name: 'p' });
    expect(describeSelector(policy.rules[0]!.subject)).toBe('any:app=a, k8s:io.kubernetes.pod.namespace=team');
  });

  it('puts namespaced policies without metadata.namespace into the default namespace', () => {
    expect(parsePolicy(cnp({ endpointSelector: {} }, { name: 'p' })).ref.namespace).toBe('default');
  });

  it('scopes toEndpoints to the policy namespace unless they name a namespace or reserved labels', () => {
    const policy = parsePolicy(
      cnp({
        endpointSelector: {},
        egress: [
          { toEndpoints: [{ matchLabels: { app: 'b' } }] },
          { toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system' } }] },
          { toEndpoints: [{ matchLabels: { 'reserved:host': '' } }] },
          { toEndpoints: [{}] },
        ],
      }),
    );
    const described = policy.rules[0]!.egress.map((rule) => selectorText(rule.peers![0]));
    expect(described).toEqual([
      'any:app=b, k8s:io.kubernetes.pod.namespace=team',
      'k8s:io.kubernetes.pod.namespace=kube-system',
      'reserved:host=',
      'k8s:io.kubernetes.pod.namespace=team',
    ]);
  });

  it('leaves a clusterwide policy unscoped but limits its toEndpoints to pods', () => {
    const policy = parsePolicy({
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumClusterwideNetworkPolicy',
      metadata: { name: 'cw' },
      spec: { endpointSelector: { matchLabels: { app: 'a' } }, ingress: [{ fromEndpoints: [{}] }] },
    });
    expect(policy.ref.namespace).toBe('');
    expect(describeSelector(policy.rules[0]!.subject)).toBe('any:app=a');
    expect(selectorText(policy.rules[0]!.ingress[0]!.peers![0])).toBe('k8s:io.kubernetes.pod.namespace');
  });

  it('reads every rule of specs[]', () => {
    const policy = parsePolicy({ ...(cnp(undefined) as object), specs: [{ endpointSelector: {} }, { endpointSelector: { matchLabels: { a: 'b' } } }] });
    expect(policy.rules).toHaveLength(2);
  });

  it('turns on default deny only in directions with rules, unless enableDefaultDeny says otherwise', () => {
    expect(parsePolicy(cnp({ endpointSelector: {}, egress: [{}] })).rules[0]!.defaultDeny).toEqual({ ingress: false, egress: true });
    expect(parsePolicy(cnp({ endpointSelector: {}, ingressDeny: [{ fromEntities: ['world'] }] })).rules[0]!.defaultDeny).toEqual({ ingress: true, egress: false });
    expect(
      parsePolicy(cnp({ endpointSelector: {}, egress: [{}], enableDefaultDeny: { egress: false } })).rules[0]!.defaultDeny,
    ).toEqual({ ingress: false, egress: false });
  });

  it('reads ports as numbers or names, with ranges, protocol ANY by default', () => {
    const policy = parsePolicy(
      cnp({
        endpointSelector: {},
        egress: [{ toPorts: [{ ports: [{ port: '53' }, { port: 8000, endPort: 8100, protocol: 'tcp' }, { port: 'HTTP-alt', protocol: 'SCTP' }] }] }],
      }),
    );
    expect(policy.rules[0]!.egress[0]!.ports).toEqual([
      { port: 53, endPort: 53, protocol: 'ANY' },
      { port: 8000, endPort: 8100, protocol: 'TCP' },
      { port: 'http-alt', endPort: 0, protocol: 'SCTP' },
    ]);
  });

  it('translates a NetworkPolicy: podSelector, namespaceSelector, ipBlock, ports and policyTypes', () => {
    const policy = parsePolicy({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'np', namespace: 'team' },
      spec: {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [
          {
            from: [
              { podSelector: { matchLabels: { app: 'api' } } },
              { namespaceSelector: { matchLabels: { env: 'prod' } }, podSelector: { matchLabels: { app: 'api' } } },
              { ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] } },
            ],
            ports: [{ port: 5432 }, { protocol: 'UDP' }],
          },
        ],
      },
    });
    const rule = policy.rules[0]!;
    expect(describeSelector(rule.subject)).toBe('k8s:app=db, k8s:io.kubernetes.pod.namespace=team');
    expect(rule.defaultDeny).toEqual({ ingress: true, egress: false });
    const peers = rule.ingress[0]!.peers!;
    expect(selectorText(peers[0])).toBe('k8s:app=api, k8s:io.kubernetes.pod.namespace=team');
    expect(selectorText(peers[1])).toBe(
      'k8s:app=api, k8s:io.cilium.k8s.namespace.labels.env=prod, k8s:io.kubernetes.pod.namespace',
    );
    expect(peers[2]).toMatchObject({ kind: 'cidr' });
    expect(rule.ingress[0]!.ports).toEqual([
      { port: 5432, endPort: 5432, protocol: 'TCP' },
      { port: 0, endPort: 0, protocol: 'UDP' },
    ]);
  });

  it('lets a NetworkPolicy rule without from/to allow every peer, and ignores directions outside policyTypes', () => {
    const policy = parsePolicy({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'np' },
      spec: { podSelector: {}, policyTypes: ['Egress'], ingress: [{}], egress: [{}] },
    });
    expect(policy.rules[0]!.ingress).toEqual([]);
    expect(policy.rules[0]!.egress[0]!.peers).toEqual([{ kind: 'entity', entity: 'all' }]);
    expect(policy.rules[0]!.defaultDeny).toEqual({ ingress: false, egress: true });
  });
});

describe('parsePolicy: invalid policies say where and why', () => {
  const withEgress = (egress: unknown) => cnp({ endpointSelector: {}, egress: [egress] });

  it.each([
    ['a port out of range', withEgress({ toPorts: [{ ports: [{ port: '70000' }] }] }), 'spec.egress[0].toPorts[0].ports[0].port', /70000 is not a port; expected 0-65535 or a port name/],
    ['a port that is no name either', withEgress({ toPorts: [{ ports: [{ port: 'not a port' }] }] }), 'spec.egress[0].toPorts[0].ports[0].port', /nor a port name/],
    ['an unknown protocol', withEgress({ toPorts: [{ ports: [{ port: '80', protocol: 'QUIC' }] }] }), 'spec.egress[0].toPorts[0].ports[0].protocol', /unknown protocol 'QUIC'/],
    ['ICMP as a port protocol', withEgress({ toPorts: [{ ports: [{ port: '80', protocol: 'ICMP' }] }] }), 'spec.egress[0].toPorts[0].ports[0].protocol', /not supported by Tycho/],
    ['endPort below port', withEgress({ toPorts: [{ ports: [{ port: '8080', endPort: 80 }] }] }), 'spec.egress[0].toPorts[0].ports[0].endPort', /between port 8080 and 65535/],
    ['a misspelt field', withEgress({ toPort: [] }), 'spec.egress[0].toPort', /unknown field 'toPort'/],
    ['a bad CIDR', withEgress({ toCIDR: ['10.0.0.0/33'] }), 'spec.egress[0].toCIDR[0]', /prefix length must be 0-32/],
    ['an except outside its cidr', withEgress({ toCIDRSet: [{ cidr: '10.0.0.0/8', except: ['192.168.0.0/16'] }] }), 'spec.egress[0].toCIDRSet[0].except[0]', /not inside cidr 10.0.0.0\/8/],
    ['an unknown entity', withEgress({ toEntities: ['internet'] }), 'spec.egress[0].toEntities[0]', /unknown entity 'internet'/],
    ['two kinds of peer in one rule', withEgress({ toEndpoints: [{}], toFQDNs: [{ matchName: 'a.com' }] }), 'spec.egress[0]', /combining toEndpoints and toFQDNs/],
    ['a bad matchPattern', withEgress({ toFQDNs: [{ matchPattern: '*.goo gle.com' }] }), 'spec.egress[0].toFQDNs[0].matchPattern', /may only hold/],
    ['matchName and matchPattern together', withEgress({ toFQDNs: [{ matchName: 'a.com', matchPattern: '*' }] }), 'spec.egress[0].toFQDNs[0]', /either matchName or matchPattern/],
    ['DNS rules without ports', withEgress({ toPorts: [{ rules: { dns: [{ matchPattern: '*' }] } }] }), 'spec.egress[0].toPorts[0].rules.dns', /need ports/],
    ['HTTP rules', withEgress({ toPorts: [{ ports: [{ port: '80' }], rules: { http: [{ method: 'GET' }] } }] }), 'spec.egress[0].toPorts[0].rules.http', /not enforced by Tycho/],
    ['a bad matchExpressions operator', withEgress({ toEndpoints: [{ matchExpressions: [{ key: 'a', operator: 'Equals' }] }] }), 'spec.egress[0].toEndpoints[0].matchExpressions[0].operator', /expected one of/],
    ['In without values', withEgress({ toEndpoints: [{ matchExpressions: [{ key: 'a', operator: 'In' }] }] }), 'spec.egress[0].toEndpoints[0].matchExpressions[0].values', /needs at least one value/],
    ['a list written as a mapping', cnp({ endpointSelector: {}, egress: {} }), 'spec.egress', /^expected array, received object$/],
    ['a port left out', withEgress({ toPorts: [{ ports: [{ protocol: 'TCP' }] }] }), 'spec.egress[0].toPorts[0].ports[0].port', /^missing$/],
    ['a label value that is not a string', cnp({ endpointSelector: { matchLabels: { app: 1 } } }), 'spec.endpointSelector.matchLabels.app', /expected string, received number/],
    ['a missing endpointSelector', cnp({ egress: [] }), 'spec.endpointSelector', /missing/],
    ['a missing spec', cnp(undefined), 'spec', /missing/],
  ])('refuses %s', (_what, raw, path, reason) => {
    const error = errorOf(raw);
    expect(error.path).toBe(path);
    expect(error.reason).toMatch(reason);
    expect(error.message).toContain('CiliumNetworkPolicy team/p');
  });

  it('refuses DNS rules on ingress', () => {
    const error = errorOf(cnp({ endpointSelector: {}, ingress: [{ toPorts: [{ ports: [{ port: '53' }], rules: { dns: [{ matchPattern: '*' }] } }] }] }));
    expect([error.path, error.reason]).toEqual(['spec.ingress[0].toPorts[0].rules.dns', 'DNS rules are not allowed on ingress']);
  });

  it('refuses a NetworkPolicy peer mixing ipBlock with selectors, and a bad port protocol', () => {
    const np = (spec: unknown) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np' }, spec });
    const mixed = errorOf(np({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }));
    expect([mixed.path, mixed.reason]).toEqual(['spec.ingress[0].from[0]', 'ipBlock cannot be combined with podSelector or namespaceSelector in one peer']);
    const protocol = errorOf(np({ podSelector: {}, egress: [{ ports: [{ port: 53, protocol: 'ANY' }] }] }));
    expect(protocol.path).toBe('spec.egress[0].ports[0].protocol');
    expect(protocol.reason).toMatch(/expected one of "TCP"\|"UDP"\|"SCTP"/);
  });

  it('refuses other kinds and wrong apiVersions', () => {
    expect(errorOf({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }).reason).toMatch(/not a policy kind/);
    const version = errorOf({ ...(cnp({ endpointSelector: {} }) as object), apiVersion: 'cilium.io/v1' });
    expect([version.path, version.reason]).toEqual(['apiVersion', 'expected cilium.io/v2']);
  });
});
