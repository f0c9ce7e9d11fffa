import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { allocateServiceAddresses, type AddressAllocation, type AddressAllocationOptions } from './addressAllocation.ts';
import { allocateIds, type IdAllocation } from './idAllocation.ts';
import { compareIpv4, compareText } from './ipv4.ts';
import { endpointsByService, slicePortOf, type SliceEndpoint } from './endpointSlices.ts';
import { serviceNode, type ServiceNode } from './podEndpoints.ts';
import { parseServiceSpec, ServiceError, serviceRef, type L4Protocol, type ServiceSpec } from './serviceSpec.ts';

/** Frontend kinds, named as `cilium service list` names them. */
export type FrontendType = 'ClusterIP' | 'NodePort' | 'ExternalIPs' | 'LoadBalancer';

/** The address NodePort frontends answer on besides each node address (Cilium's surrogate frontend). */
export const NODE_PORT_ANY_ADDRESS = '0.0.0.0';

/** Service ids double as reverse-NAT indexes, which the datapath keeps in 16 bits. */
export const MAX_SERVICE_ID = 65535;
export const MAX_BACKEND_ID = 0xffff_ffff;

/** A backend (pod address, target port, protocol), shared by every frontend that uses it. */
export interface Backend {
  readonly id: number;
  readonly address: string;
  readonly port: number;
  readonly protocol: L4Protocol;
}

/** A backend as one frontend uses it: which pod, on which node. */
export interface FrontendBackend extends Backend {
  readonly namespace: string;
  readonly podName: string;
  readonly nodeName: string | undefined;
}

/** One address:port/protocol the datapath answers for a service. */
export interface Frontend {
  /** Service id, also the reverse-NAT index: stable while the frontend exists. */
  readonly id: number;
  readonly namespace: string;
  readonly serviceName: string;
  /** `spec.ports[].name` ('' for a single unnamed port). */
  readonly portName: string;
  readonly type: FrontendType;
  readonly address: string;
  readonly port: number;
  readonly protocol: L4Protocol;
  /** Set for NodePort frontends on one node's address; undefined = on every node. */
  readonly node: string | undefined;
  /** `externalTrafficPolicy: Local` on a NodePort, ExternalIPs or LoadBalancer frontend: traffic from outside uses the node's own backends only. */
  readonly externalTrafficLocal: boolean;
  /** `sessionAffinity: ClientIP`. */
  readonly sessionAffinity: { readonly timeoutSeconds: number } | undefined;
  /** Every ready backend, ordered by address then port (the slot order). */
  readonly backends: readonly FrontendBackend[];
}

/** A service as Tycho serves it: the validated spec with addresses filled in, and its ready endpoints. */
export interface ResolvedService extends ServiceSpec {
  /** IPv4 address, or 'None' for a headless service. */
  readonly clusterIP: string;
  readonly headless: boolean;
  /** Ready endpoints of its EndpointSlices, by IP (what DNS answers for a headless service). */
  readonly readyPods: readonly { readonly name: string; readonly ip: string; readonly nodeName: string | undefined }[];
}

/** Everything the datapath, DNS and CLI need, for the whole cluster. */
export interface ServiceModel {
  readonly services: readonly ResolvedService[];
  /** By id. */
  readonly frontends: readonly Frontend[];
  /** Every backend some frontend uses, by id. */
  readonly backends: readonly Backend[];
  readonly nodes: readonly ServiceNode[];
  /** Carry these into the next build (`previous`) to keep ids and addresses. */
  readonly frontendIds: IdAllocation;
  readonly backendIds: IdAllocation;
  readonly addresses: AddressAllocation;
}

export interface ServiceModelInput {
  readonly services: readonly V1Service[];
  /** Backends come from these (label `kubernetes.io/service-name`), not from pod selectors. */
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly nodes: readonly V1Node[];
}

export interface ServiceModelOptions extends Omit<AddressAllocationOptions, 'previous'> {
  /** The model built before: ids and addresses stay where they were. */
  readonly previous?: Pick<ServiceModel, 'frontendIds' | 'backendIds' | 'addresses'>;
}

const TYPE_ORDER: Record<FrontendType, number> = { ClusterIP: 0, NodePort: 1, ExternalIPs: 2, LoadBalancer: 3 };

export function frontendKey(frontend: Pick<Frontend, 'address' | 'port' | 'protocol'>): string {
  return `${frontend.address}:${frontend.port}/${frontend.protocol}`;
}

export function backendKey(backend: Pick<Backend, 'address' | 'port' | 'protocol'>): string {
  return `${backend.address}:${backend.port}/${backend.protocol}`;
}

type UnnumberedFrontend = Omit<Frontend, 'id' | 'backends'> & { backends: Omit<FrontendBackend, 'id'>[] };

function frontendsOf(service: ResolvedService, endpoints: readonly SliceEndpoint[], nodes: readonly ServiceNode[]): UnnumberedFrontend[] {
  if (service.headless) return [];
  const out: UnnumberedFrontend[] = [];
  for (const port of service.ports) {
    const backends = endpoints
      .flatMap((endpoint) => {
        const target = slicePortOf(endpoint, port);
        return target === undefined
          ? []
          : [{ address: endpoint.ip, port: target, protocol: port.protocol, namespace: service.namespace, podName: endpoint.name, nodeName: endpoint.nodeName }];
      })
      .sort((a, b) => compareIpv4(a.address, b.address) || a.port - b.port);
  const base = {
      namespace: service.namespace,
      serviceName: service.name,
      portName: port.name,
      protocol: port.protocol,
      sessionAffinity: service.sessionAffinity,
      backends,
    };
    const local = service.externalTrafficPolicy === 'Local';
    out.push({ ...base, type: 'ClusterIP', address: service.clusterIP, port: port.port, node: undefined, externalTrafficLocal: false });
    if (port.nodePort !== undefined) {
      out.push({ ...base, type: 'NodePort', address: NODE_PORT_ANY_ADDRESS, port: port.nodePort, node: undefined, externalTrafficLocal: local });
      for (const node of nodes) {
        for (const address of node.addresses) {
          out.push({ ...base, type: 'NodePort', address, port: port.nodePort, node: node.name, externalTrafficLocal: local });
        }
      }
    }
    for (const address of service.externalIPs) {
      out.push({ ...base, type: 'ExternalIPs', address, port: port.port, node: undefined, externalTrafficLocal: local });
    }
    if (service.type === 'LoadBalancer' && service.loadBalancerIP !== undefined) {
      out.push({ ...base, type: 'LoadBalancer', address: service.loadBalancerIP, port: port.port, node: undefined, externalTrafficLocal: local });
    }
  }
  return out;
}

/**
 * Builds the cluster's services as the datapath serves them, from Service,
 * EndpointSlice and Node objects: validates each service (`ServiceError` names the
 * field), fills in missing ClusterIPs, node ports and LoadBalancer addresses,
 * lists every frontend (ClusterIP; NodePort on 0.0.0.0 and on each node
 * InternalIP; each external IP; the LoadBalancer address) with the ready
 * endpoints of its slices as backends (the slice port of the same name and
 * protocol gives the target port), and
 * numbers frontends and backends. Two services claiming the same
 * address:port/protocol is an error. Deterministic: the same objects give the
 * same model, in any order; with `previous`, ids and addresses stay put.
 */
export function buildServiceModel(input: ServiceModelInput, options: ServiceModelOptions = {}): ServiceModel {
  const parsed = input.services.map(parseServiceSpec);
  const seen = new Set<string>();
  for (const spec of parsed) {
    const ref = serviceRef(spec);
    if (seen.has(ref)) throw new ServiceError(ref, 'metadata.name', 'the same service is listed twice');
    seen.add(ref);
  }
  const { specs, allocation } = allocateServiceAddresses(parsed, { ...options, previous: options.previous?.addresses });
  const endpoints = endpointsByService(input.endpointSlices);
  const nodes = input.nodes
    .map(serviceNode)
    .filter((node): node is ServiceNode => node !== undefined)
    .sort((a, b) => compareText(a.name, b.name));

  const readyEndpoints = new Map<string, SliceEndpoint[]>();
  const services: ResolvedService[] = specs
    .map((spec) => {
      const clusterIP = spec.clusterIP as string;
      const ready = (endpoints.get(serviceRef(spec)) ?? []).filter((endpoint) => endpoint.ready).sort((a, b) => compareIpv4(a.ip, b.ip) || compareText(a.name, b.name));
      readyEndpoints.set(serviceRef(spec), ready);
      const readyPods = ready.map((endpoint) => ({ name: endpoint.name, ip: endpoint.ip, nodeName: endpoint.nodeName }));
      return { ...spec, clusterIP, headless: clusterIP === 'None', readyPods };
    })
    .sort((a, b) => compareText(serviceRef(a), serviceRef(b)));

  const unnumbered = services.flatMap((service) => frontendsOf(service, readyEndpoints.get(serviceRef(service)) ?? [], nodes));
  unnumbered.sort(
    (a, b) =>
      compareText(`${a.namespace}/${a.serviceName}`, `${b.namespace}/${b.serviceName}`) ||
      compareText(a.portName, b.portName) ||
      compareText(a.protocol, b.protocol) ||
      TYPE_ORDER[a.type] - TYPE_ORDER[b.type] ||
      compareIpv4(a.address, b.address),
  );
  const owners = new Map<string, UnnumberedFrontend>();
  for (const frontend of unnumbered) {
    const key = frontendKey(frontend);
    const other = owners.get(key);
    if (other) {
      throw new ServiceError(
        `${frontend.namespace}/${frontend.serviceName}`,
        frontend.type === 'ExternalIPs' ? 'spec.externalIPs' : 'spec.ports',
        `${frontend.type} frontend ${key} is already the ${other.type} frontend of Service ${other.namespace}/${other.serviceName}`,
      );
    }
    owners.set(key, frontend);
  }

  const frontendIds = allocateIds(unnumbered.map(frontendKey), MAX_SERVICE_ID, 'service', options.previous?.frontendIds);
  const backendKeys = [...new Set(unnumbered.flatMap((f) => f.backends.map(backendKey)))];
  const backendIds = allocateIds(backendKeys, MAX_BACKEND_ID, 'backend', options.previous?.backendIds);
  const backendById = new Map<number, Backend>();
  const frontends: Frontend[] = unnumbered
    .map((frontend) => ({
      ...frontend,
      id: frontendIds.ids[frontendKey(frontend)] as number,
      backends: frontend.backends.map((backend) => {
        const id = backendIds.ids[backendKey(backend)] as number;
        backendById.set(id, { id, address: backend.address, port: backend.port, protocol: backend.protocol });
        return { id, ...backend };
      }),
    }))
    .sort((a, b) => a.id - b.id);
  return {
    services,
    frontends,
    backends: [...backendById.values()].sort((a, b) => a.id - b.id),
    nodes,
    frontendIds,
    backendIds,
    addresses: allocation,
  };
}

/** The frontends a node serves: everything but the NodePort frontends on other nodes' addresses. */
export function nodeFrontends(model: Pick<ServiceModel, 'frontends'>, nodeName: string): Frontend[] {
  return model.frontends.filter((frontend) => frontend.node === undefined || frontend.node === nodeName);
}

/**
 * The backends a frontend uses on `nodeName` for traffic from outside the
 * cluster: with `externalTrafficPolicy: Local` only the node's own pods,
 * otherwise all of them.
 */
export function externalBackends(frontend: Frontend, nodeName: string): readonly FrontendBackend[] {
  return frontend.externalTrafficLocal ? frontend.backends.filter((backend) => backend.nodeName === nodeName) : frontend.backends;
}
