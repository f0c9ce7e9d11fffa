import type { V1Service } from '@kubernetes/client-node';

/** The lab's service CIDR (kubeadm's default); kube-dns conventionally takes .10. */
export const SERVICE_CIDR = '10.96.0.0/16';
const FIRST_DYNAMIC_CLUSTER_IP = 100; // 10.96.0.100 onwards; .1–.99 are left for fixed addresses
const NODE_PORT_RANGE = { first: 30000, last: 32767 };

function clusterIpAt(index: number): string {
  return `10.96.${Math.floor(index / 256)}.${index % 256}`;
}

/**
 * Fills in what the API server would: a ClusterIP for services without one
 * (headless `None` stays), nodePorts for NodePort/LoadBalancer ports without
 * one, and the default protocol and targetPort. Fixed addresses in the
 * manifests are kept; a clash is an error.
 */
export function allocateServiceAddresses(services: readonly V1Service[]): V1Service[] {
  const usedIps = new Set<string>();
  const usedPorts = new Set<number>();
  for (const service of services) {
    const fixed = service.spec?.clusterIP;
    const ref = `${service.metadata?.namespace}/${service.metadata?.name}`;
    if (fixed && fixed !== 'None') {
      if (usedIps.has(fixed)) throw new Error(`lab: Service ${ref}: spec.clusterIP ${fixed} is already taken`);
      usedIps.add(fixed);
    }
    for (const port of service.spec?.ports ?? []) {
      if (port.nodePort === undefined) continue;
      if (usedPorts.has(port.nodePort)) throw new Error(`lab: Service ${ref}: nodePort ${port.nodePort} is already taken`);
      usedPorts.add(port.nodePort);
    }
  }
  let nextIp = FIRST_DYNAMIC_CLUSTER_IP;
  let nextPort = NODE_PORT_RANGE.first;
  return services.map((service) => {
    const spec = service.spec ?? {};
    const type = spec.type ?? 'ClusterIP';
    let clusterIP = spec.clusterIP;
    if (!clusterIP) {
      while (usedIps.has(clusterIpAt(nextIp))) nextIp++;
      clusterIP = clusterIpAt(nextIp++);
      usedIps.add(clusterIP);
    }
    const ports = (spec.ports ?? []).map((port) => {
      let nodePort = port.nodePort;
      if (nodePort === undefined && (type === 'NodePort' || type === 'LoadBalancer')) {
        while (usedPorts.has(nextPort)) nextPort++;
        if (nextPort > NODE_PORT_RANGE.last) throw new Error('lab: no free nodePort left in 30000-32767');
        nodePort = nextPort++;
        usedPorts.add(nodePort);
      }
      return { ...port, protocol: port.protocol ?? 'TCP', targetPort: port.targetPort ?? port.port, ...(nodePort !== undefined ? { nodePort } : {}) };
    });
    return {
      ...service,
      apiVersion: 'v1',
      kind: 'Service',
      spec: { ...spec, type, clusterIP, clusterIPs: clusterIP === 'None' ? ['None'] : [clusterIP], ports },
    };
  });
}
