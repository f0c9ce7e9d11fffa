import type { ServiceModel } from './serviceModel.ts';

export const CLUSTER_DOMAIN = 'cluster.local';

/**
 * A-record answers for service names, keyed by lower-case FQDN without the
 * trailing dot (`echo-a.default.svc.cluster.local`): the ClusterIP for a
 * normal service, the IPs of the ready pods for a headless one (none yet: an
 * empty list, which is NOERROR with no answer, not NXDOMAIN).
 */
export function serviceDnsRecords(model: Pick<ServiceModel, 'services'>, clusterDomain = CLUSTER_DOMAIN): Record<string, string[]> {
  const records: Record<string, string[]> = {};
  for (const service of model.services) {
    const fqdn = `${service.name}.${service.namespace}.svc.${clusterDomain}`.toLowerCase();
    records[fqdn] = service.headless ? [...new Set(service.readyPods.map((pod) => pod.ip))] : [service.clusterIP];
  }
  return records;
}

/**
 * Resolves a service name as a pod in `clientNamespace` would through the
 * kubelet's search path (`<ns>.svc.<domain>`, `svc.<domain>`, `<domain>`):
 * `echo-a`, `echo-a.default`, `echo-a.default.svc` and the FQDN (with or
 * without the final dot) all find the service. `undefined` when no service
 * has that name (the lab DNS's NXDOMAIN).
 */
export function resolveServiceName(
  records: Readonly<Record<string, readonly string[]>>,
  name: string,
  clientNamespace: string,
  clusterDomain = CLUSTER_DOMAIN,
): readonly string[] | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.')) return records[lower.slice(0, -1)];
  const candidates = [`${lower}.${clientNamespace}.svc.${clusterDomain}`, `${lower}.svc.${clusterDomain}`, `${lower}.${clusterDomain}`, lower];
  for (const candidate of candidates) {
    const found = records[candidate];
    if (found) return found;
  }
  return undefined;
}
