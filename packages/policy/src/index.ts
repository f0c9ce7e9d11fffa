export { type Prefix, formatPrefix, hostPrefix, parseIp, parsePrefix, prefixContains } from './cidr.ts';
export { type Decision, type Verdict, decide, decideDnsQuery, entryMatches } from './decide.ts';
export { type DnsRecord, fqdnAddresses, nextDnsExpiry } from './dnsCache.ts';
export {
  type EndpointSelector,
  type K8sLabelSelector,
  type SelectorOperator,
  type SelectorRequirement,
  describeSelector,
  selectorFromK8s,
  selectorMatches,
} from './endpointSelector.ts';
export { type FqdnSelector, describeFqdnSelector, fqdnSelectorMatches, normalizeDnsName } from './fqdnSelector.ts';
export {
  ANY_IDENTITY,
  CidrIdentityAllocator,
  type Identity,
  LOCAL_IDENTITY_SCOPE,
  MAX_LOCAL_IDENTITY,
  MIN_LOCAL_IDENTITY,
  cidrLabel,
  prefixOfIdentity,
  reservedIdentities,
  worldIdentityOf,
} from './identities.ts';
export {
  type Label,
  NAMESPACE_LABELS_PREFIX,
  NAMESPACE_NAME_LABEL,
  POD_NAMESPACE_KEY,
  namespaceIdentityLabels,
  parseLabel,
} from './labels.ts';
export { type ParseOptions, parsePolicy } from './parsePolicy.ts';
export { parsePolicies, parsePolicyText, policyObjectsFromText } from './policyDocuments.ts';
export { PolicyError } from './policyError.ts';
export {
  type PolicyMapKey,
  type PortPrefix,
  directionNeedsLookup,
  keysOfIdentity,
  lookupPolicyMapKey,
  policyMapKeys,
  portRangePrefixes,
} from './policyMapKeys.ts';
export {
  type Direction,
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
  policyRefKey,
  policyRefName,
} from './policyModel.ts';
export { type DirectionChange, PolicyEngine, type PolicyEngineChanges, type PolicyEngineInputs, type PolicyEngineWork } from './policyEngine.ts';
export { type ApplyResult, PolicyStore } from './policyStore.ts';
export {
  type DirectionPolicy,
  type EndpointPolicy,
  type NamedPort,
  type PolicyEndpoint,
  type PolicyEntry,
  type PolicyInputs,
  Protocol,
  fqdnSelectorsOf,
  requiredCidrs,
  resolveEndpointPolicies,
} from './resolvePolicy.ts';
