// Defaulting on create and update: what kube-apiserver fills in before an object is stored, limited
// to the fields the lab's readers depend on (a Service's ClusterIP and node ports, port protocols,
// a workload's replicas, a pod's phase, a namespace's phase).
import { isJsonObject, type JsonObject, type KubeObject } from './kubeObject.ts';
import type { ResourceDefinition } from './resourceRegistry.ts';
import { invalid } from './status.ts';

export interface ServiceAddressRange {
  /** The service CIDR, as kube-apiserver's --service-cluster-ip-range (IPv4). */
  clusterIpCidr: string;
  nodePortRange: { first: number; last: number };
}

export const defaultServiceAddressRange: ServiceAddressRange = {
  clusterIpCidr: '10.96.0.0/12',
  nodePortRange: { first: 30000, last: 32767 },
};

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function numberToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface AllocatedAddresses {
  clusterIps: Set<string>;
  nodePorts: Set<number>;
}

/** The first free address of the range after the network address and .1 (kept for `default/kubernetes`). */
function allocateClusterIp(range: ServiceAddressRange, used: Set<string>): string {
  const [network = '0.0.0.0', prefix = '32'] = range.clusterIpCidr.split('/');
  const base = ipToNumber(network);
  const size = 2 ** (32 - Number(prefix));
  for (let offset = 2; offset < size - 1; offset += 1) {
    const candidate = numberToIp(base + offset);
    if (!used.has(candidate)) return candidate;
  }
  throw invalid('', 'Service', '', [{ reason: 'FieldValueInvalid', message: `Internal error: the service range ${range.clusterIpCidr} is full`, field: 'spec.clusterIPs' }]);
}

function allocateNodePort(range: ServiceAddressRange, used: Set<number>): number {
  for (let port = range.nodePortRange.first; port <= range.nodePortRange.last; port += 1) {
    if (!used.has(port)) return port;
  }
  throw invalid('', 'Service', '', [{ reason: 'FieldValueInvalid', message: 'no node ports left', field: 'spec.ports.nodePort' }]);
}

function defaultService(service: KubeObject, previous: KubeObject | undefined, range: ServiceAddressRange, used: AllocatedAddresses): void {
  const spec: JsonObject = isJsonObject(service.spec) ? service.spec : {};
  service.spec = spec;
  const previousSpec = previous && isJsonObject(previous.spec) ? previous.spec : {};
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.type !== 'ExternalName') {
    // The ClusterIP is immutable: an update that leaves it out keeps the allocated one, as kubectl apply expects.
    if (spec.clusterIP === undefined || spec.clusterIP === '') {
      spec.clusterIP = typeof previousSpec.clusterIP === 'string' ? previousSpec.clusterIP : allocateClusterIp(range, used.clusterIps);
    }
    spec.clusterIPs = [spec.clusterIP];
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  const previousPorts = Array.isArray(previousSpec.ports) ? previousSpec.ports.filter(isJsonObject) : [];
  const needsNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  if (needsNodePorts) spec.externalTrafficPolicy ??= 'Cluster';
  for (const port of Array.isArray(spec.ports) ? spec.ports.filter(isJsonObject) : []) {
    port.protocol ??= 'TCP';
    port.targetPort ??= port.port ?? null;
    if (needsNodePorts && port.nodePort === undefined) {
      const kept = previousPorts.find((old) => old.port === port.port && (old.protocol ?? 'TCP') === port.protocol);
      port.nodePort = typeof kept?.nodePort === 'number' ? kept.nodePort : allocateNodePort(range, used.nodePorts);
      used.nodePorts.add(port.nodePort);
    }
  }
  if (!isJsonObject(service.status)) service.status = { loadBalancer: {} };
}

function defaultContainers(podSpec: unknown): void {
  if (!isJsonObject(podSpec)) return;
  podSpec.restartPolicy ??= 'Always';
  podSpec.dnsPolicy ??= 'ClusterFirst';
  podSpec.terminationGracePeriodSeconds ??= 30;
  for (const container of Array.isArray(podSpec.containers) ? podSpec.containers.filter(isJsonObject) : []) {
    container.imagePullPolicy ??= typeof container.image === 'string' && container.image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
    for (const port of Array.isArray(container.ports) ? container.ports.filter(isJsonObject) : []) port.protocol ??= 'TCP';
  }
}

export function applyDefaults(
  resource: ResourceDefinition,
  object: KubeObject,
  previous: KubeObject | undefined,
  context: { range: ServiceAddressRange; used: () => AllocatedAddresses },
): void {
  const key = `${resource.group}/${resource.plural}`;
  if (key === '/services') defaultService(object, previous, context.range, context.used());
  else if (key === '/pods') {
    defaultContainers(object.spec);
    if (!isJsonObject(object.status)) object.status = { phase: 'Pending', qosClass: 'BestEffort' };
  } else if (key === '/namespaces') {
    if (!isJsonObject(object.status)) object.status = { phase: 'Active' };
  } else if (key === 'apps/deployments' || key === 'apps/replicasets' || key === 'apps/statefulsets') {
    const spec = isJsonObject(object.spec) ? object.spec : undefined;
    if (spec) {
      spec.replicas ??= 1;
      if (isJsonObject(spec.template)) defaultContainers(spec.template.spec);
      if (key === 'apps/deployments') {
        spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
        spec.revisionHistoryLimit ??= 10;
        spec.progressDeadlineSeconds ??= 600;
      }
    }
  } else if (key === 'apps/daemonsets') {
    const spec = isJsonObject(object.spec) ? object.spec : undefined;
    if (spec && isJsonObject(spec.template)) defaultContainers(spec.template.spec);
  }
}
