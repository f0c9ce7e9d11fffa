export { ServiceError, parseServiceSpec, serviceRef, NODE_PORT_RANGE, DEFAULT_AFFINITY_TIMEOUT_SECONDS, type L4Protocol, type ServicePortSpec, type ServiceSpec, type ServiceType } from './serviceSpec.ts';
export {
  allocateServiceAddresses,
  serviceObjectWithAddresses,
  DEFAULT_SERVICE_CIDR,
  DEFAULT_LOAD_BALANCER_POOL,
  type AddressAllocation,
  type AddressAllocationOptions,
} from './addressAllocation.ts';
export {
  endpointSlicesForService,
  endpointSlicesFromPods,
  endpointsByService,
  slicePortOf,
  SERVICE_NAME_LABEL,
  MANAGED_BY_LABEL,
  ENDPOINTSLICE_CONTROLLER,
  type SliceEndpoint,
} from './endpointSlices.ts';
export { podEndpoint, serviceNode, selectorMatches, resolveTargetPort, type PodEndpoint, type ServiceNode } from './podEndpoints.ts';
export { allocateIds, type IdAllocation } from './idAllocation.ts';
export {
  buildServiceModel,
  nodeFrontends,
  externalBackends,
  frontendKey,
  backendKey,
  NODE_PORT_ANY_ADDRESS,
  MAX_SERVICE_ID,
  MAX_BACKEND_ID,
  type Backend,
  type Frontend,
  type FrontendBackend,
  type FrontendType,
  type ResolvedService,
  type ServiceModel,
  type ServiceModelInput,
  type ServiceModelOptions,
} from './serviceModel.ts';
export { diffServiceModels, type ServiceModelDiff } from './serviceDiff.ts';
export { serviceListRows, formatServiceList, type ServiceListRow } from './serviceList.ts';
export {
  maglevTable,
  maglevPermutationParams,
  maglevFlowHash,
  jhash3Words,
  MAGLEV_TABLE_SIZES,
  DEFAULT_MAGLEV_TABLE_SIZE,
  MAGLEV_FLOW_HASH_SEED,
  type MaglevBackend,
  type MaglevFlow,
  type MaglevOptions,
} from './maglev.ts';
export {
  compileServiceMaps,
  diffServiceMaps,
  serviceMapOps,
  serviceMapKeyString,
  type BackendMapEntry,
  type CompileOptions,
  type LookupScope,
  type MaglevEntry,
  type MapChanges,
  type RevNatEntry,
  type ServiceFlags,
  type ServiceMapDiff,
  type ServiceMapEntries,
  type ServiceMapEntry,
  type ServiceMapKey,
  type ServiceMapOp,
  type ServiceMapValue,
} from './serviceMaps.ts';
export {
  selectBackend,
  indexServiceMaps,
  randomBackendSlot,
  maglevBackendId,
  clientIpAffinityKey,
  affinityKeyString,
  type AffinityKey,
  type AffinityValue,
  type BackendChoice,
  type BackendRequest,
  type ServiceMapIndex,
} from './backendSelection.ts';
export { serviceDnsRecords, resolveServiceName, CLUSTER_DOMAIN } from './serviceDns.ts';
export { ipv4ToNumber, numberToIpv4, parseIpv4Cidr, cidrContains, compareIpv4, compareText, type Ipv4Cidr } from './ipv4.ts';
export { BackendServiceIndex, type ServiceName } from './backendServices.ts';
