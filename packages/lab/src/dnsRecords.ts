import type { WorldHost } from './world.ts';

export const CLUSTER_DOMAIN = 'cluster.local';

/** The lab DNS zone: lower-case names without the trailing dot → IPv4 addresses. */
export interface DnsRecords {
  readonly a: Readonly<Record<string, readonly string[]>>;
}

/** What the zone needs to know about a pod. */
export interface PodDnsSource {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip: string | undefined;
  readonly ready: boolean;
}

/** Search domains of a pod in `namespace`, as kubelet writes them into resolv.conf. */
export function searchDomains(namespace: string): string[] {
  return [`${namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN];
}

/**
 * Builds the zone the lab DNS serves:
 * - `<svc>.<ns>.svc.cluster.local` → `serviceRecords` (@tycho/services'
 *   `serviceDnsRecords`: the ClusterIP, or a headless service's ready pods);
 * - `<a-b-c-d>.<ns>.pod.cluster.local` and `<pod>.<ns>.pod.cluster.local` → the pod IP;
 * - the world hosts' names → their RFC 5737 addresses.
 */
export function buildDnsRecords(input: {
  pods: readonly PodDnsSource[];
  serviceRecords: Readonly<Record<string, readonly string[]>>;
  world: readonly WorldHost[];
}): DnsRecords {
  const a: Record<string, string[]> = {};
  const add = (name: string, ip: string | undefined) => {
    const key = name.toLowerCase();
    const list = (a[key] ??= []);
    if (ip && !list.includes(ip)) list.push(ip);
  };
  for (const [fqdn, ips] of Object.entries(input.serviceRecords)) {
    add(fqdn, undefined);
    for (const ip of ips) add(fqdn, ip);
  }
  for (const pod of input.pods) {
    if (!pod.ip) continue;
    add(`${pod.ip.replaceAll('.', '-')}.${pod.namespace}.pod.${CLUSTER_DOMAIN}`, pod.ip);
    add(`${pod.name}.${pod.namespace}.pod.${CLUSTER_DOMAIN}`, pod.ip);
  }
  for (const host of input.world) add(host.name, host.ip);
  for (const list of Object.values(a)) list.sort();
  return { a };
}

export type DnsLookup = { rcode: 'NOERROR'; ips: readonly string[] } | { rcode: 'NXDOMAIN' };

/** Looks a name up in the zone: known names answer (maybe with no address), others are NXDOMAIN. */
export function lookupA(records: DnsRecords, name: string): DnsLookup {
  const ips = records.a[name.toLowerCase().replace(/\.$/, '')];
  return ips ? { rcode: 'NOERROR', ips } : { rcode: 'NXDOMAIN' };
}
