import type { V1Service } from '@kubernetes/client-node';
import { cidrContains, compareText, ipv4ToNumber, numberToIpv4, parseIpv4Cidr, type Ipv4Cidr } from './ipv4.ts';
import { NODE_PORT_RANGE, ServiceError, serviceRef, type ServicePortSpec, type ServiceSpec } from './serviceSpec.ts';
import { stableHash32 } from './stableHash.ts';

/** kubeadm's default service CIDR; kube-dns conventionally sits at 10.96.0.10. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

/**
 * Where LoadBalancer services get their addresses in the lab: the upper half
 * of TEST-NET-3 (RFC 5737). The lab's world hosts (packages/lab/src/world.ts)
 * use 192.0.2.11, 198.51.100.14 and 203.0.113.10, all outside it.
 */
export const DEFAULT_LOAD_BALANCER_POOL = '203.0.113.128/25';

export interface AddressAllocationOptions {
  /** Where ClusterIPs come from (default 10.96.0.0/12). */
  readonly serviceCidr?: string;
  /** Where LoadBalancer addresses come from (default 203.0.113.128/25). */
  readonly loadBalancerPool?: string;
  /** The allocation of an earlier run: services keep what they had, even if a newcomer hashes onto it. */
  readonly previous?: AddressAllocation;
}

/** Addresses handed out, by service (`ns/name`) and port; plain JSON, to persist and pass back as `previous`. */
export interface AddressAllocation {
  readonly clusterIPs: Readonly<Record<string, string>>;
  /** Key `ns/name:portName/PROTO`. */
  readonly nodePorts: Readonly<Record<string, number>>;
  readonly loadBalancerIPs: Readonly<Record<string, string>>;
}

function nodePortKey(spec: ServiceSpec, port: ServicePortSpec): string {
  return `${serviceRef(spec)}:${port.name}/${port.protocol}`;
}

/**
 * Hands out addresses from a numeric range, stably: a newcomer starts at a
 * hash of its name and takes the first free value from there, so the same
 * input gives the same result whatever the order of services.
 */
class RangeAllocator {
  private readonly owners = new Map<number, string>();

  constructor(
    private readonly first: number,
    private readonly count: number,
    /** Values below `first + preferredFrom` are taken only when the rest is full (Kubernetes' static band). */
    private readonly preferredFrom = 0,
  ) {}

  ownerOf(value: number): string | undefined {
    return this.owners.get(value);
  }

  contains(value: number): boolean {
    return value >= this.first && value < this.first + this.count;
  }

  claim(value: number, owner: string): void {
    this.owners.set(value, owner);
  }

  /** Takes `value` back for `owner` if it is in range and free; says whether it did. */
  reclaim(value: number, owner: string): boolean {
    if (!this.contains(value) || this.owners.has(value)) return false;
    this.owners.set(value, owner);
    return true;
  }

  allocate(owner: string, hashKey: string): number | undefined {
    const bandCount = this.count - this.preferredFrom;
    const start = stableHash32(hashKey) % bandCount;
    for (let i = 0; i < bandCount; i++) {
      const value = this.first + this.preferredFrom + ((start + i) % bandCount);
      if (!this.owners.has(value)) return this.take(value, owner);
    }
    for (let value = this.first; value < this.first + this.preferredFrom; value++) {
      if (!this.owners.has(value)) return this.take(value, owner);
    }
    return undefined;
  }

  private take(value: number, owner: string): number {
    this.owners.set(value, owner);
    return value;
  }
}

/** Usable addresses of a CIDR: without network and broadcast address when it has more than two. */
function usableRange(cidr: Ipv4Cidr): { first: number; count: number } {
  return cidr.size > 2 ? { first: cidr.first + 1, count: cidr.size - 2 } : { first: cidr.first, count: cidr.size };
}

/**
 * Does what the API server (ClusterIPs, node ports) and a load-balancer
 * controller (LoadBalancer addresses) do for services that lack them:
 * - ClusterIP from the service CIDR, preferring addresses above Kubernetes'
 *   static band (the lowest min(max(16, size/16), 256) addresses stay for fixed
 *   ClusterIPs like kube-dns's 10.96.0.10); headless services get none;
 * - node ports from 30000-32767 for NodePort and LoadBalancer services;
 * - a LoadBalancer address from the pool.
 * Addresses given in the services are kept; a fixed ClusterIP outside the CIDR,
 * or one that two services share, or a node port two services share, is a
 * `ServiceError`. Stable: the same services give the same addresses.
 */
export function allocateServiceAddresses(
  specs: readonly ServiceSpec[],
  options: AddressAllocationOptions = {},
): { specs: ServiceSpec[]; allocation: AddressAllocation } {
  const cidr = parseIpv4Cidr(options.serviceCidr ?? DEFAULT_SERVICE_CIDR);
  const pool = parseIpv4Cidr(options.loadBalancerPool ?? DEFAULT_LOAD_BALANCER_POOL);
  const previous = options.previous ?? { clusterIPs: {}, nodePorts: {}, loadBalancerIPs: {} };
  const cidrRange = usableRange(cidr);
  const staticBand = Math.min(Math.max(16, Math.floor(cidr.size / 16)), 256);
  const clusterIPs = new RangeAllocator(cidrRange.first, cidrRange.count, staticBand < cidrRange.count ? staticBand - 1 : 0);
  const nodePorts = new RangeAllocator(NODE_PORT_RANGE.first, NODE_PORT_RANGE.last - NODE_PORT_RANGE.first + 1);
  const poolRange = usableRange(pool);
  const lbIPs = new RangeAllocator(poolRange.first, poolRange.count);

  // Fixed addresses first: they win over anything allocated earlier.
  for (const spec of specs) {
    const ref = serviceRef(spec);
    if (spec.clusterIP !== undefined && spec.clusterIP !== 'None') {
      if (!cidrContains(cidr, spec.clusterIP)) {
        throw new ServiceError(ref, 'spec.clusterIP', `${spec.clusterIP} is outside the service CIDR ${cidr.text}`);
      }
      const value = ipv4ToNumber(spec.clusterIP);
      const owner = clusterIPs.ownerOf(value);
      if (owner) throw new ServiceError(ref, 'spec.clusterIP', `${spec.clusterIP} is already the ClusterIP of Service ${owner}`);
      clusterIPs.claim(value, ref);
    }
    spec.ports.forEach((port, i) => {
      if (port.nodePort === undefined) return;
      const owner = nodePorts.ownerOf(port.nodePort);
      if (owner && owner !== ref) throw new ServiceError(ref, `spec.ports[${i}].nodePort`, `${port.nodePort} is already a node port of Service ${owner}`);
      nodePorts.claim(port.nodePort, ref);
    });
    if (spec.loadBalancerIP !== undefined) {
      const value = ipv4ToNumber(spec.loadBalancerIP);
      const owner = lbIPs.ownerOf(value);
      if (owner) throw new ServiceError(ref, 'status.loadBalancer.ingress', `${spec.loadBalancerIP} is already the address of Service ${owner}`);
      lbIPs.claim(value, ref);
    }
  }

  // Then what an earlier run gave out, where it still fits and nobody fixed it meanwhile.
  const sorted = [...specs].sort((a, b) => compareText(serviceRef(a), serviceRef(b)));
  const keptClusterIPs = new Map<string, string>();
  const keptLoadBalancerIPs = new Map<string, string>();
  const keptNodePorts = new Map<string, number>();
  for (const spec of sorted) {
    const ref = serviceRef(spec);
    const clusterIP = previous.clusterIPs[ref];
    if (spec.clusterIP === undefined && clusterIP !== undefined && clusterIPs.reclaim(ipv4ToNumber(clusterIP), ref)) keptClusterIPs.set(ref, clusterIP);
    const lbIP = previous.loadBalancerIPs[ref];
    if (spec.type === 'LoadBalancer' && spec.loadBalancerIP === undefined && lbIP !== undefined && lbIPs.reclaim(ipv4ToNumber(lbIP), ref)) {
      keptLoadBalancerIPs.set(ref, lbIP);
    }
    if (spec.type === 'ClusterIP') continue;
    for (const port of spec.ports) {
      const key = nodePortKey(spec, port);
      const nodePort = previous.nodePorts[key];
      if (port.nodePort === undefined && nodePort !== undefined && nodePorts.reclaim(nodePort, ref)) keptNodePorts.set(key, nodePort);
    }
  }

  // Then newcomers, by name.
  const out = new Map<string, ServiceSpec>();
  const allocation = { clusterIPs: {} as Record<string, string>, nodePorts: {} as Record<string, number>, loadBalancerIPs: {} as Record<string, string> };
  for (const spec of sorted) {
    const ref = serviceRef(spec);
    let clusterIP = spec.clusterIP ?? keptClusterIPs.get(ref);
    if (clusterIP === undefined) {
      const value = clusterIPs.allocate(ref, ref);
      if (value === undefined) throw new ServiceError(ref, 'spec.clusterIP', `no free address left in the service CIDR ${cidr.text}`);
      clusterIP = numberToIpv4(value);
    }
    if (clusterIP !== 'None') allocation.clusterIPs[ref] = clusterIP;
    const ports = spec.ports.map((port, i) => {
      if (spec.type === 'ClusterIP' || port.nodePort !== undefined) return port;
      const key = nodePortKey(spec, port);
      const nodePort = keptNodePorts.get(key) ?? nodePorts.allocate(ref, key);
      if (nodePort === undefined) {
        throw new ServiceError(ref, `spec.ports[${i}].nodePort`, `no free node port left in ${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`);
      }
      allocation.nodePorts[key] = nodePort;
      return { ...port, nodePort };
    });
    let loadBalancerIP = spec.loadBalancerIP ?? keptLoadBalancerIPs.get(ref);
    if (spec.type === 'LoadBalancer' && loadBalancerIP === undefined) {
      const value = lbIPs.allocate(ref, ref);
      if (value === undefined) throw new ServiceError(ref, 'status.loadBalancer.ingress', `no free address left in the load-balancer pool ${pool.text}`);
      loadBalancerIP = numberToIpv4(value);
    }
    if (loadBalancerIP !== undefined) allocation.loadBalancerIPs[ref] = loadBalancerIP;
    out.set(ref, { ...spec, clusterIP, ports, loadBalancerIP });
  }
  return { specs: specs.map((spec) => out.get(serviceRef(spec)) as ServiceSpec), allocation };
}

/**
 * The Service object with what `allocateServiceAddresses` filled in, as the
 * API server would store it: `spec.clusterIP(s)`, each port's protocol,
 * targetPort and nodePort, and `status.loadBalancer.ingress` for LoadBalancer
 * services. For writing back into the KubeStore.
 */
export function serviceObjectWithAddresses(service: V1Service, spec: ServiceSpec): V1Service {
  return {
    ...service,
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { ...service.metadata, name: spec.name, namespace: spec.namespace },
    spec: {
      ...service.spec,
      type: spec.type,
      ...(spec.clusterIP !== undefined ? { clusterIP: spec.clusterIP, clusterIPs: [spec.clusterIP] } : {}),
      ports: spec.ports.map((port, i) => ({
        ...service.spec?.ports?.[i],
        ...(port.name ? { name: port.name } : {}),
        port: port.port,
        protocol: port.protocol,
        targetPort: port.targetPort,
        ...(port.nodePort !== undefined ? { nodePort: port.nodePort } : {}),
      })),
    },
    ...(spec.type === 'LoadBalancer' && spec.loadBalancerIP !== undefined
      ? { status: { ...service.status, loadBalancer: { ingress: [{ ip: spec.loadBalancerIP }] } } }
      : {}),
  };
}
