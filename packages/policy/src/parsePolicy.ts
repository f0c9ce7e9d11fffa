import type { z } from 'zod';
import { formatPrefix, type Prefix, parsePrefix, prefixContains } from './cidr.ts';
import {
  type EndpointSelector,
  type SelectorRequirement,
  selectorFromK8s,
  selectorHasKey,
  selectorHasKeyPrefix,
  selectorHasSource,
  withRequirement,
} from './endpointSelector.ts';
import { type FqdnSelector, matchNameProblem, matchPatternProblem } from './fqdnSelector.ts';
import { NAMESPACE_LABELS_PREFIX, POD_NAMESPACE_KEY } from './labels.ts';
import { formatPath, PolicyError } from './policyError.ts';
import {
  ENTITIES,
  type Entity,
  type Peer,
  type PeerRule,
  type Policy,
  type PolicyKind,
  type PolicyRef,
  type PolicyRule,
  type PortProtocol,
  type PortSpec,
} from './policyModel.ts';
import {
  type CidrRuleObject,
  type CiliumRuleObject,
  ciliumPolicySchema,
  type FqdnSelectorObject,
  type KnpPeerObject,
  type KnpPortObject,
  type LabelSelectorObject,
  type NetworkPolicyObject,
  networkPolicySchema,
  type PortProtocolObject,
} from './policySchema.ts';

export interface ParseOptions {
  /** Namespace of namespaced kinds without metadata.namespace (kubectl's default: `default`). */
  readonly defaultNamespace?: string;
  /** Names the source in errors. */
  readonly file?: string;
  /** Names the object in errors before its name is known (`document 2`). */
  readonly documentLabel?: string;
}

/** Cilium's limit of ports per toPorts entry. */
const MAX_PORTS = 40;

const namespaceRequirement = (namespace: string): SelectorRequirement => ({
  source: 'k8s',
  key: POD_NAMESPACE_KEY,
  operator: 'In',
  values: [namespace],
});
const anyNamespaceRequirement: SelectorRequirement = { source: 'k8s', key: POD_NAMESPACE_KEY, operator: 'Exists', values: [] };

/** Thrown inside the translation with a path relative to the object; turned into a PolicyError at the top. */
class FieldProblem extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function fail(path: string, reason: string): never {
  throw new FieldProblem(path, reason);
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function zodProblem(error: z.ZodError, raw: unknown): FieldProblem {
  const issue = error.issues[0];
  if (!issue) return new FieldProblem('', 'invalid');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return new FieldProblem(formatPath([...issue.path, key]), `unknown field '${key}'`);
  }
  if (issue.code !== 'custom' && valueAt(raw, issue.path) === undefined) {
    return new FieldProblem(formatPath(issue.path), issue.message.startsWith('missing') ? issue.message : 'missing');
  }
  return new FieldProblem(formatPath(issue.path), issue.message.replace(/^Invalid input: /, ''));
}

function objectLabel(raw: unknown, fallback: string): string {
  if (raw === null || typeof raw !== 'object') return fallback;
  const { kind, metadata } = raw as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const name = typeof metadata?.name === 'string' ? metadata.name : undefined;
  const kindText = typeof kind === 'string' ? kind : 'object';
  if (!name) return `${kindText} (${fallback})`;
  const namespace = typeof metadata?.namespace === 'string' ? `${metadata.namespace}/` : '';
  return `${kindText} ${namespace}${name}`;
}

/**
 * Validates one policy object (a CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or
 * NetworkPolicy as parsed from YAML/JSON) and translates it into the policy model.
 * Throws a PolicyError naming the field and the reason.
 */
export function parsePolicy(raw: unknown, options: ParseOptions = {}): Policy {
  const fallback = options.documentLabel ?? 'policy';
  try {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('', 'expected a Kubernetes object (a mapping with apiVersion and kind)');
    const kind = (raw as { kind?: unknown }).kind;
    if (kind === 'CiliumNetworkPolicy' || kind === 'CiliumClusterwideNetworkPolicy') return parseCilium(raw, options);
    if (kind === 'NetworkPolicy') return parseNetworkPolicy(raw, options);
    if (kind === undefined) fail('kind', 'missing');
    fail('kind', `'${String(kind)}' is not a policy kind; expected CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy`);
  } catch (err) {
    if (err instanceof FieldProblem) throw new PolicyError(objectLabel(raw, fallback), err.path, err.reason, options.file);
    throw err;
  }
}

function refOf(kind: PolicyKind, metadata: { name: string; namespace?: string | undefined }, options: ParseOptions): PolicyRef {
  if (kind === 'CiliumClusterwideNetworkPolicy') {
    if (metadata.namespace !== undefined) fail('metadata.namespace', 'a CiliumClusterwideNetworkPolicy is not namespaced; remove metadata.namespace');
    return { kind, namespace: '', name: metadata.name };
  }
  return { kind, namespace: metadata.namespace ?? options.defaultNamespace ?? 'default', name: metadata.name };
}

// ---------------------------------------------------------------- Cilium

function parseCilium(raw: object, options: ParseOptions): Policy {
  const parsed = ciliumPolicySchema.safeParse(raw);
  if (!parsed.success) throw zodProblem(parsed.error, raw);
  const object = parsed.data;
  const ref = refOf(object.kind, object.metadata, options);
  const specs: [string, CiliumRuleObject][] = [];
  if (object.spec) specs.push(['spec', object.spec]);
  object.specs?.forEach((spec, i) => specs.push([`specs[${i}]`, spec]));
  if (specs.length === 0) fail('spec', 'missing; a policy needs spec or specs');
  return { ref, rules: specs.map(([path, spec]) => ciliumRule(spec, path, ref.namespace)), source: raw };
}

function ciliumRule(spec: CiliumRuleObject, path: string, namespace: string): PolicyRule {
  if (spec.nodeSelector !== undefined) fail(`${path}.nodeSelector`, 'host policies (nodeSelector) are not supported by Tycho; use endpointSelector');
  if (!spec.endpointSelector) fail(`${path}.endpointSelector`, 'missing; a rule must have an endpointSelector');
  let subject = selectorFromK8s(spec.endpointSelector);
  if (namespace) {
    // The policy applies in its own namespace only, whatever its selector says (Cilium overrides it).
    subject = withRequirement(
      { requirements: subject.requirements.filter((r) => !(r.key === POD_NAMESPACE_KEY && r.operator === 'In')) },
      namespaceRequirement(namespace),
    );
  }
  const scope: Scope = { namespace };
  const ingress = (spec.ingress ?? []).map((r, i) => ciliumPeerRule(r, `${path}.ingress[${i}]`, 'ingress', false, scope));
  const ingressDeny = (spec.ingressDeny ?? []).map((r, i) => ciliumPeerRule(r, `${path}.ingressDeny[${i}]`, 'ingress', true, scope));
  const egress = (spec.egress ?? []).map((r, i) => ciliumPeerRule(r, `${path}.egress[${i}]`, 'egress', false, scope));
  const egressDeny = (spec.egressDeny ?? []).map((r, i) => ciliumPeerRule(r, `${path}.egressDeny[${i}]`, 'egress', true, scope));
  return {
    subject,
    ingress,
    ingressDeny,
    egress,
    egressDeny,
    defaultDeny: {
      ingress: spec.enableDefaultDeny?.ingress ?? (ingress.length > 0 || ingressDeny.length > 0),
      egress: spec.enableDefaultDeny?.egress ?? (egress.length > 0 || egressDeny.length > 0),
    },
  };
}

interface Scope {
  /** '' = clusterwide. */
  readonly namespace: string;
}

/**
 * Scopes a from/toEndpoints selector as Cilium does: to the policy's namespace unless it
 * names the namespace (or namespace labels) itself; for clusterwide policies to endpoints that
 * have a namespace; selectors of reserved labels are left alone.
 */
function scopeSelector(selector: EndpointSelector, scope: Scope): EndpointSelector {
  if (selectorHasSource(selector, 'reserved')) return selector;
  if (selectorHasKey(selector, POD_NAMESPACE_KEY)) return selector;
  if (!scope.namespace) return withRequirement(selector, anyNamespaceRequirement);
  if (selectorHasKeyPrefix(selector, NAMESPACE_LABELS_PREFIX, 'k8s')) return selector;
  return withRequirement(selector, namespaceRequirement(scope.namespace));
}

type RawRule = Record<string, unknown>;

const UNSUPPORTED_FIELDS: Record<string, string> = {
  fromRequires: 'fromRequires is deprecated in Cilium and not supported by Tycho',
  toRequires: 'toRequires is deprecated in Cilium and not supported by Tycho',
  fromGroups: 'cloud-provider groups are not supported by Tycho',
  toGroups: 'cloud-provider groups are not supported by Tycho',
  fromNodes: 'node selectors are not supported by Tycho; use fromEntities host/remote-node',
  toNodes: 'node selectors are not supported by Tycho; use toEntities host/remote-node',
  toServices: 'toServices is not supported by Tycho; select the service’s pods with toEndpoints',
  icmps: 'ICMP rules are not supported by Tycho',
  authentication: 'mutual authentication is not supported by Tycho',
};

function ciliumPeerRule(rule: RawRule, path: string, direction: 'ingress' | 'egress', deny: boolean, scope: Scope): PeerRule {
  for (const [field, reason] of Object.entries(UNSUPPORTED_FIELDS)) {
    if (rule[field] !== undefined) fail(`${path}.${field}`, reason);
  }
  const p = direction === 'ingress' ? 'from' : 'to';
  const l3Fields = [`${p}Endpoints`, `${p}CIDR`, `${p}CIDRSet`, `${p}Entities`, ...(direction === 'egress' ? ['toFQDNs'] : [])].filter((field) => {
    const value = rule[field];
    return Array.isArray(value) && value.length > 0;
  });
  if (l3Fields.length > 1) {
    fail(path, `combining ${l3Fields[0]} and ${l3Fields[1]} in one rule is not supported (as in Cilium); write them as two rules`);
  }
  const peers: Peer[] = [];
  const endpoints = (rule[`${p}Endpoints`] as LabelSelectorObject[] | undefined) ?? [];
  for (const selector of endpoints) peers.push({ kind: 'selector', selector: scopeSelector(selectorFromK8s(selector), scope) });
  ((rule[`${p}CIDR`] as string[] | undefined) ?? []).forEach((text, i) => {
    peers.push({ kind: 'cidr', cidr: prefixAt(text, `${path}.${p}CIDR[${i}]`, true), except: [] });
  });
  ((rule[`${p}CIDRSet`] as CidrRuleObject[] | undefined) ?? []).forEach((set, i) => {
    peers.push(cidrSetPeer(set, `${path}.${p}CIDRSet[${i}]`));
  });
  ((rule[`${p}Entities`] as string[] | undefined) ?? []).forEach((entity, i) => {
    if (!(ENTITIES as readonly string[]).includes(entity)) {
      fail(`${path}.${p}Entities[${i}]`, `unknown entity '${entity}'; expected one of ${ENTITIES.join(', ')}`);
    }
    peers.push({ kind: 'entity', entity: entity as Entity });
  });
  ((rule.toFQDNs as FqdnSelectorObject[] | undefined) ?? []).forEach((selector, i) => {
    peers.push({ kind: 'fqdn', selector: fqdnSelectorAt(selector, `${path}.toFQDNs[${i}]`) });
  });

  const ports: PortSpec[] = [];
  const toPorts = (rule.toPorts as { ports?: PortProtocolObject[]; rules?: Record<string, unknown> }[] | undefined) ?? [];
  toPorts.forEach((portRule, i) => {
    const rulePath = `${path}.toPorts[${i}]`;
    const list = portRule.ports ?? [];
    if (list.length > MAX_PORTS) fail(`${rulePath}.ports`, `too many ports (${list.length}); Cilium allows at most ${MAX_PORTS}`);
    const specs = list.map((port, j) => ciliumPort(port, `${rulePath}.ports[${j}]`));
    for (const field of ['serverNames', 'terminatingTLS', 'originatingTLS', 'listener'] as const) {
      if ((portRule as Record<string, unknown>)[field] !== undefined) fail(`${rulePath}.${field}`, 'TLS and listener settings need an L7 proxy, which Tycho does not have');
    }
    const l7 = portRule.rules;
    const dns: FqdnSelector[] = [];
    if (l7) {
      for (const field of ['http', 'kafka', 'l7proto', 'l7'] as const) {
        if (l7[field] !== undefined) fail(`${rulePath}.rules.${field}`, `L7 ${field} rules are not enforced by Tycho (only DNS rules are)`);
      }
      const dnsRules = (l7.dns as FqdnSelectorObject[] | undefined) ?? [];
      if (dnsRules.length > 0) {
        if (direction === 'ingress') fail(`${rulePath}.rules.dns`, 'DNS rules are not allowed on ingress');
        if (specs.length === 0) fail(`${rulePath}.rules.dns`, 'DNS rules need ports (port 53) in the same toPorts entry');
        const zero = specs.findIndex((spec) => spec.port === 0);
        if (zero >= 0) fail(`${rulePath}.ports[${zero}].port`, 'L7 (DNS) rules cannot be used with port 0 (every port)');
        dnsRules.forEach((selector, j) => dns.push(fqdnSelectorAt(selector, `${rulePath}.rules.dns[${j}]`)));
      }
    }
    ports.push(...specs.map((spec) => (dns.length > 0 && !deny ? { ...spec, dns } : spec)));
  });
  return { peers: l3Fields.length > 0 ? peers : undefined, ports };
}

function prefixAt(text: string, path: string, allowBareIp: boolean): Prefix {
  const prefix = parsePrefix(text, allowBareIp);
  if (typeof prefix === 'string') fail(path, prefix);
  return prefix;
}

function cidrSetPeer(set: CidrRuleObject, path: string): Peer {
  if (set.cidrGroupRef !== undefined || set.cidrGroupSelector !== undefined) {
    fail(`${path}.${set.cidrGroupRef !== undefined ? 'cidrGroupRef' : 'cidrGroupSelector'}`, 'CiliumCIDRGroups are not supported by Tycho; write the cidr');
  }
  if (set.cidr === undefined) fail(`${path}.cidr`, 'missing');
  const cidr = prefixAt(set.cidr, `${path}.cidr`, false);
  const except = (set.except ?? []).map((text, i) => {
    const prefix = prefixAt(text, `${path}.except[${i}]`, false);
    if (!prefixContains(cidr, prefix)) fail(`${path}.except[${i}]`, `${formatPrefix(prefix)} is not inside cidr ${formatPrefix(cidr)}`);
    return prefix;
  });
  return { kind: 'cidr', cidr, except };
}

function fqdnSelectorAt(selector: FqdnSelectorObject, path: string): FqdnSelector {
  if (selector.matchName !== undefined && selector.matchPattern !== undefined) fail(path, 'set either matchName or matchPattern, not both');
  if (selector.matchName !== undefined) {
    const problem = matchNameProblem(selector.matchName);
    if (problem) fail(`${path}.matchName`, problem);
    return { matchName: selector.matchName };
  }
  if (selector.matchPattern !== undefined) {
    const problem = matchPatternProblem(selector.matchPattern);
    if (problem) fail(`${path}.matchPattern`, problem);
    return { matchPattern: selector.matchPattern };
  }
  return fail(path, 'missing matchName or matchPattern');
}

/** IANA service names, the form of named ports: 1-15 of [a-z0-9-], a letter, no `--`, no `-` at the ends. */
const SERVICE_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

function portNumberOrName(value: string | number, path: string, allowZero: boolean): number | string {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < (allowZero ? 0 : 1) || value > 65535) fail(path, `${value} is not a port; expected ${allowZero ? 0 : 1}-65535 or a port name`);
    return value;
  }
  const text = value.trim();
  if (text === '') fail(path, 'must not be empty; expected a port number or a port name');
  if (/^\d+$/.test(text)) return portNumberOrName(Number(text), path, allowZero);
  const name = text.toLowerCase();
  if (!SERVICE_NAME.test(name)) fail(path, `'${value}' is neither a port number (${allowZero ? 0 : 1}-65535) nor a port name (1-15 letters, digits and -)`);
  return name;
}

function endPortOf(port: number | string, endPort: number | undefined, path: string): number {
  if (endPort === undefined) return typeof port === 'number' ? port : 0;
  if (typeof port !== 'number' || port === 0) fail(path, 'endPort needs a non-zero numeric port');
  if (!Number.isInteger(endPort) || endPort < port || endPort > 65535) fail(path, `endPort ${endPort} must be between port ${port} and 65535`);
  return endPort;
}

function ciliumPort(port: PortProtocolObject, path: string): PortSpec {
  const value = portNumberOrName(port.port, `${path}.port`, true);
  const protocolText = (port.protocol ?? 'ANY').toUpperCase();
  let protocol: PortProtocol;
  if (protocolText === '' || protocolText === 'ANY') protocol = 'ANY';
  else if (protocolText === 'TCP' || protocolText === 'UDP' || protocolText === 'SCTP') protocol = protocolText;
  else if (['ICMP', 'ICMPV6', 'VRRP', 'IGMP'].includes(protocolText)) fail(`${path}.protocol`, `protocol ${port.protocol} is not supported by Tycho; expected TCP, UDP, SCTP or ANY`);
  else fail(`${path}.protocol`, `unknown protocol '${port.protocol}'; expected TCP, UDP, SCTP or ANY`);
  return { port: value, endPort: endPortOf(value, port.endPort, `${path}.endPort`), protocol };
}

// ---------------------------------------------------------------- Kubernetes NetworkPolicy

function parseNetworkPolicy(raw: object, options: ParseOptions): Policy {
  const parsed = networkPolicySchema.safeParse(raw);
  if (!parsed.success) throw zodProblem(parsed.error, raw);
  const object: NetworkPolicyObject = parsed.data;
  const ref = refOf('NetworkPolicy', object.metadata, options);
  const spec = object.spec;
  const types = spec.policyTypes ?? (spec.egress && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress']);
  const hasIngress = types.includes('Ingress');
  const hasEgress = types.includes('Egress');
  const subject = withRequirement(selectorFromK8s(spec.podSelector, (key) => `k8s:${key}`), namespaceRequirement(ref.namespace));
  const ingress = hasIngress
    ? (spec.ingress ?? []).map((r, i) => knpRule(r.from, r.ports, `spec.ingress[${i}]`, 'from', ref.namespace))
    : [];
  const egress = hasEgress ? (spec.egress ?? []).map((r, i) => knpRule(r.to, r.ports, `spec.egress[${i}]`, 'to', ref.namespace)) : [];
  return {
    ref,
    rules: [{ subject, ingress, egress, ingressDeny: [], egressDeny: [], defaultDeny: { ingress: hasIngress, egress: hasEgress } }],
    source: raw,
  };
}

function knpRule(peers: KnpPeerObject[] | undefined, ports: KnpPortObject[] | undefined, path: string, field: 'from' | 'to', namespace: string): PeerRule {
  const translated: Peer[] =
    peers && peers.length > 0 ? peers.map((peer, i) => knpPeer(peer, `${path}.${field}[${i}]`, namespace)) : [{ kind: 'entity', entity: 'all' }];
  const portSpecs = (ports ?? []).map((port, i): PortSpec => {
    const portPath = `${path}.ports[${i}]`;
    const value = port.port === undefined ? 0 : portNumberOrName(port.port, `${portPath}.port`, false);
    return { port: value, endPort: endPortOf(value, port.endPort, `${portPath}.endPort`), protocol: port.protocol ?? 'TCP' };
  });
  return { peers: translated, ports: portSpecs };
}

function knpPeer(peer: KnpPeerObject, path: string, namespace: string): Peer {
  if (peer.ipBlock) {
    if (peer.podSelector || peer.namespaceSelector) fail(path, 'ipBlock cannot be combined with podSelector or namespaceSelector in one peer');
    return cidrSetPeer({ cidr: peer.ipBlock.cidr, except: peer.ipBlock.except }, `${path}.ipBlock`);
  }
  if (!peer.podSelector && !peer.namespaceSelector) fail(path, 'a peer needs podSelector, namespaceSelector or ipBlock');
  let selector: EndpointSelector = peer.podSelector ? selectorFromK8s(peer.podSelector, (key) => `k8s:${key}`) : { requirements: [] };
  if (peer.namespaceSelector) {
    const namespaces = selectorFromK8s(peer.namespaceSelector, (key) => `k8s:${NAMESPACE_LABELS_PREFIX}${key}`);
    selector = { requirements: [...selector.requirements, ...namespaces.requirements, anyNamespaceRequirement] };
  } else {
    selector = withRequirement(selector, namespaceRequirement(namespace));
  }
  return { kind: 'selector', selector };
}
