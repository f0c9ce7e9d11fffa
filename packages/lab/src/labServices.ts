import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import {
  allocateServiceAddresses,
  buildServiceModel,
  endpointSlicesFromPods,
  parseServiceSpec,
  serviceDnsRecords,
  serviceObjectWithAddresses,
  serviceRef,
} from '@tycho/services';

/**
 * The lab's Services as the API server would store them: each gets what it
 * lacks (a ClusterIP from 10.96.0.0/12, node ports, a LoadBalancer address
 * from 203.0.113.128/25; kube-dns keeps 10.96.0.10), by @tycho/services'
 * stable allocation, so the agents and the lab DNS agree on every address.
 * A bad Service is a ServiceError naming it and the field.
 */
export function allocateLabServices(services: readonly V1Service[]): V1Service[] {
  const specs = services.map(parseServiceSpec);
  const allocated = new Map(allocateServiceAddresses(specs).specs.map((spec) => [serviceRef(spec), spec]));
  return services.map((service, i) => {
    const spec = allocated.get(serviceRef(specs[i]!));
    if (!spec) throw new Error(`lab: no addresses were allocated for Service ${serviceRef(specs[i]!)}`);
    return serviceObjectWithAddresses(service, spec);
  });
}

/** The ClusterIP pods send DNS queries to, as kubelet's clusterDNS: the kube-system/kube-dns Service's. */
export function clusterDnsAddress(services: readonly V1Service[]): string | undefined {
  const dns = services.find((s) => s.metadata?.namespace === 'kube-system' && s.metadata?.name === 'kube-dns');
  const ip = dns?.spec?.clusterIP;
  return ip && ip !== 'None' ? ip : undefined;
}

/** `<svc>.<ns>.svc.cluster.local` records: the ClusterIP, or a headless service's ready pods (through the EndpointSlices the lab writes for them). */
export function labServiceDnsRecords(input: { services: readonly V1Service[]; pods: readonly V1Pod[]; nodes: readonly V1Node[] }): Record<string, string[]> {
  return serviceDnsRecords(buildServiceModel({ services: input.services, endpointSlices: endpointSlicesFromPods(input.services, input.pods), nodes: input.nodes }));
}
