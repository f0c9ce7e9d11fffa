import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { isIPv4 } from 'node:net';
import { podEndpoint, resolveTargetPort, selectorMatches, type PodEndpoint } from './podEndpoints.ts';
import { parseServiceSpec, serviceRef, type L4Protocol } from './serviceSpec.ts';
import { stableHash32 } from './stableHash.ts';

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const ENDPOINTSLICE_CONTROLLER = 'endpointslice-controller.k8s.io';

/** One address of an EndpointSlice as a service backend: the slice's port names map service ports to target ports. */
export interface SliceEndpoint {
  readonly ip: string;
  /** `targetRef.name` (the pod), else `hostname`, else the address. */
  readonly name: string;
  readonly nodeName: string | undefined;
  /** `conditions.ready`; absent means ready, as Kubernetes reads it. */
  readonly ready: boolean;
  /** Slice port name ('' for an unnamed one) and protocol → port number. */
  readonly ports: ReadonlyMap<string, number>;
}

function portKey(name: string, protocol: L4Protocol): string {
  return `${name}/${protocol}`;
}

/** The port of `ports` a service port reaches: same name ('' for the single unnamed port) and protocol. */
export function slicePortOf(endpoint: SliceEndpoint, port: { readonly name: string; readonly protocol: L4Protocol }): number | undefined {
  return endpoint.ports.get(portKey(port.name, port.protocol));
}

/**
 * The endpoints of every Service, from its EndpointSlices (label
 * `kubernetes.io/service-name`), by `namespace/name`. Slices of another
 * address type than IPv4 are skipped; an address that is not IPv4 in an IPv4
 * slice is an error naming the slice. The same address in two slices (as
 * while a controller moves endpoints between slices) counts once.
 */
export function endpointsByService(slices: readonly V1EndpointSlice[]): Map<string, SliceEndpoint[]> {
  const out = new Map<string, SliceEndpoint[]>();
  const seen = new Set<string>();
  for (const slice of slices) {
    const serviceName = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!serviceName || slice.addressType !== 'IPv4') continue;
    const namespace = slice.metadata?.namespace ?? 'default';
    const ref = `${namespace}/${serviceName}`;
    const ports = new Map<string, number>();
    for (const port of slice.ports ?? []) {
      if (typeof port.port === 'number') ports.set(portKey(port.name ?? '', (port.protocol ?? 'TCP') as L4Protocol), port.port);
    }
    const list = out.get(ref) ?? [];
    out.set(ref, list);
    (slice.endpoints ?? []).forEach((endpoint, i) => {
      endpoint.addresses.forEach((ip, j) => {
        if (!isIPv4(ip)) throw new Error(`EndpointSlice ${namespace}/${slice.metadata?.name ?? '(unnamed)'}: endpoints[${i}].addresses[${j}]: '${ip}' is not an IPv4 address`);
        const key = `${ref}\0${ip}\0${[...ports].join(',')}`;
        if (seen.has(key)) return;
        seen.add(key);
        list.push({
          ip,
          name: endpoint.targetRef?.name ?? endpoint.hostname ?? ip,
          nodeName: endpoint.nodeName,
          ready: endpoint.conditions?.ready !== false,
          ports,
        });
      });
    });
  }
  return out;
}

/**
 * What Kubernetes' EndpointSlice controller writes for one Service: its
 * selector's pods with an address (ready or not, `conditions.ready` says),
 * grouped into one slice per set of resolved target ports (a named target
 * port can resolve differently per pod). A selector-less Service gets none:
 * its slices are made by hand. Slice names are stable (`<service>-<hash of the ports>`).
 */
export function endpointSlicesForService(service: V1Service, pods: readonly V1Pod[]): V1EndpointSlice[] {
  const spec = parseServiceSpec(service);
  if (!spec.selector || Object.keys(spec.selector).length === 0) return [];
  const selected = pods
    .map(podEndpoint)
    .filter((pod): pod is PodEndpoint => pod !== undefined && pod.namespace === spec.namespace && selectorMatches(spec.selector, pod.labels));
  const groups = new Map<string, { ports: { name: string; port: number; protocol: L4Protocol }[]; pods: PodEndpoint[] }>();
  for (const pod of selected) {
    const ports = spec.ports.flatMap((port) => {
      const target = resolveTargetPort(port, pod);
      return target === undefined ? [] : [{ name: port.name, port: target, protocol: port.protocol }];
    });
    const key = JSON.stringify(ports);
    const group = groups.get(key) ?? { ports, pods: [] };
    group.pods.push(pod);
    groups.set(key, group);
  }
  // A service that selects no pod still has its (empty) slice, as Kubernetes keeps one.
  if (groups.size === 0) groups.set('[]', { ports: [], pods: [] });
  return [...groups].map(([key, group]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${spec.name}-${stableHash32(key, serviceRef(spec)).toString(16).padStart(8, '0')}`,
      namespace: spec.namespace,
      labels: { [SERVICE_NAME_LABEL]: spec.name, [MANAGED_BY_LABEL]: ENDPOINTSLICE_CONTROLLER },
    },
    addressType: 'IPv4',
    endpoints: group.pods.map((pod) => ({
      addresses: [pod.ip],
      conditions: { ready: pod.ready, serving: pod.ready, terminating: false },
      ...(pod.nodeName ? { nodeName: pod.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: pod.namespace, name: pod.name },
    })),
    ports: group.ports.map((port) => ({ name: port.name, port: port.port, protocol: port.protocol })),
  }));
}

/** `endpointSlicesForService` for every Service. */
export function endpointSlicesFromPods(services: readonly V1Service[], pods: readonly V1Pod[]): V1EndpointSlice[] {
  return services.flatMap((service) => endpointSlicesForService(service, pods));
}
