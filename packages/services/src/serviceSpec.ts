import type { V1Service } from '@kubernetes/client-node';
import { isIPv4 } from 'node:net';
import { z } from 'zod';

export type L4Protocol = 'TCP' | 'UDP' | 'SCTP';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

/** Kubernetes' NodePort range (the API server's `--service-node-port-range` default). */
export const NODE_PORT_RANGE = { first: 30000, last: 32767 } as const;

/** Kubernetes' default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

/** One entry of `spec.ports`, with Kubernetes' defaults applied. */
export interface ServicePortSpec {
  /** `''` for the single unnamed port of a one-port service. */
  readonly name: string;
  readonly port: number;
  readonly protocol: L4Protocol;
  /** A port number, or the name of a container port resolved per pod. */
  readonly targetPort: number | string;
  /** `undefined` until allocated (NodePort and LoadBalancer services only). */
  readonly nodePort: number | undefined;
}

/** What Tycho needs of a Kubernetes Service, validated. */
export interface ServiceSpec {
  readonly namespace: string;
  readonly name: string;
  readonly type: ServiceType;
  /** An IPv4 address, `'None'` for a headless service, or `undefined` until allocated. */
  readonly clusterIP: string | undefined;
  /** Service selector; `undefined` or empty selects no pods. */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly ports: readonly ServicePortSpec[];
  readonly externalIPs: readonly string[];
  /** `status.loadBalancer.ingress[0].ip`, else `spec.loadBalancerIP`; `undefined` until allocated. */
  readonly loadBalancerIP: string | undefined;
  /** Set for `sessionAffinity: ClientIP`. */
  readonly sessionAffinity: { readonly timeoutSeconds: number } | undefined;
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
}

/** A Service Tycho cannot serve: names the service, the field and what was expected. */
export class ServiceError extends Error {
  constructor(
    readonly serviceRef: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`Service ${serviceRef}: ${field ? `${field}: ` : ''}${problem}`);
    this.name = 'ServiceError';
  }
}

const dnsLabel = z
  .string({ error: 'expected a string' })
  .max(63, 'expected at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a DNS label (lower-case letters, digits and -)');
const portNumber = z
  .number({ error: 'expected a port number' })
  .int('expected an integer port')
  .min(1, 'expected a port from 1 to 65535')
  .max(65535, 'expected a port from 1 to 65535');
// IANA service name, as Kubernetes validates named ports.
const portName = z
  .string()
  .max(15, 'a port name has at most 15 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a port name (lower-case letters, digits and -)')
  .refine((name) => /[a-z]/.test(name), 'a port name needs at least one letter');
const ipv4 = z.ipv4({ error: 'expected an IPv4 address' });

const serviceSchema = z.looseObject({
  metadata: z.looseObject({ name: dnsLabel, namespace: dnsLabel.optional() }, { error: 'expected metadata with a name' }),
  spec: z
    .looseObject({
      type: z
        .enum(['ClusterIP', 'NodePort', 'LoadBalancer'], { error: 'expected ClusterIP, NodePort or LoadBalancer (ExternalName is not load-balanced)' })
        .optional(),
      clusterIP: z
        .string({ error: 'expected an IPv4 address, None or empty' })
        .refine((value) => value === '' || value === 'None' || isIPv4(value), 'expected an IPv4 address, None or empty')
        .optional(),
      selector: z.record(z.string(), z.string()).optional(),
      ports: z
        .array(
          z.looseObject({
            name: z.union([z.literal(''), portName]).optional(),
            port: portNumber,
            targetPort: z.union([portNumber, portName], { error: 'expected a port number or a container port name' }).optional(),
            nodePort: z
              .number({ error: 'expected a port number' })
              .int('expected an integer port')
              .min(NODE_PORT_RANGE.first, `expected a port in the NodePort range ${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`)
              .max(NODE_PORT_RANGE.last, `expected a port in the NodePort range ${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`)
              .optional(),
            protocol: z.enum(['TCP', 'UDP', 'SCTP'], { error: 'expected TCP, UDP or SCTP' }).optional(),
          }),
        )
        .optional(),
      externalIPs: z.array(ipv4).optional(),
      loadBalancerIP: z
        .string({ error: 'expected an IPv4 address or empty' })
        .refine((value) => value === '' || isIPv4(value), 'expected an IPv4 address or empty')
        .optional(),
      sessionAffinity: z.enum(['None', 'ClientIP'], { error: 'expected None or ClientIP' }).optional(),
      sessionAffinityConfig: z
        .looseObject({
          clientIP: z
            .looseObject({
              timeoutSeconds: z.number().int().min(1, 'expected 1 to 86400 seconds').max(86400, 'expected 1 to 86400 seconds').optional(),
            })
            .optional(),
        })
        .optional(),
      externalTrafficPolicy: z.enum(['Cluster', 'Local'], { error: 'expected Cluster or Local' }).optional(),
    })
    .optional(),
  status: z
    .looseObject({
      loadBalancer: z.looseObject({ ingress: z.array(z.looseObject({ ip: ipv4.optional() })).optional() }).optional(),
    })
    .optional(),
});

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

function refOf(raw: unknown): string {
  const metadata = (raw as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const name = typeof metadata?.name === 'string' ? metadata.name : '(unnamed)';
  const namespace = typeof metadata?.namespace === 'string' ? metadata.namespace : 'default';
  return `${namespace}/${name}`;
}

/**
 * Validates a Service object (as read from a manifest or the KubeStore) and
 * applies Kubernetes' defaults: type ClusterIP, protocol TCP, targetPort = port,
 * namespace `default`. Throws a `ServiceError` naming the field on bad input.
 */
export function parseServiceSpec(service: V1Service): ServiceSpec {
  const ref = refOf(service);
  const result = serviceSchema.safeParse(service);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ServiceError(ref, issue ? fieldPath(issue.path) : '', issue?.message ?? 'invalid');
  }
  const { metadata, spec = {}, status } = result.data;
  const type = spec.type ?? 'ClusterIP';
  const clusterIP = spec.clusterIP === '' ? undefined : spec.clusterIP;
  if (clusterIP === 'None' && type !== 'ClusterIP') {
    throw new ServiceError(ref, 'spec.clusterIP', `None (headless) needs type ClusterIP, not ${type}`);
  }
  const rawPorts = spec.ports ?? [];
  const ports: ServicePortSpec[] = rawPorts.map((port, i) => {
    if (port.nodePort !== undefined && type === 'ClusterIP') {
      throw new ServiceError(ref, `spec.ports[${i}].nodePort`, 'only NodePort and LoadBalancer services have node ports');
    }
    return {
      name: port.name ?? '',
      port: port.port,
      protocol: port.protocol ?? 'TCP',
      targetPort: port.targetPort ?? port.port,
      nodePort: port.nodePort,
    };
  });
  const seenNames = new Set<string>();
  const seenPorts = new Set<string>();
  const seenNodePorts = new Set<string>();
  ports.forEach((port, i) => {
    if (ports.length > 1 && port.name === '') throw new ServiceError(ref, `spec.ports[${i}].name`, 'required when a service has more than one port');
    if (seenNames.has(port.name)) throw new ServiceError(ref, `spec.ports[${i}].name`, `'${port.name}' is used by another port of this service`);
    seenNames.add(port.name);
    const key = `${port.port}/${port.protocol}`;
    if (seenPorts.has(key)) throw new ServiceError(ref, `spec.ports[${i}].port`, `${key} is listed twice`);
    seenPorts.add(key);
    if (port.nodePort !== undefined) {
      const nodeKey = `${port.nodePort}/${port.protocol}`;
      if (seenNodePorts.has(nodeKey)) throw new ServiceError(ref, `spec.ports[${i}].nodePort`, `${nodeKey} is listed twice`);
      seenNodePorts.add(nodeKey);
    }
  });
  const externalIPs = [...new Set(spec.externalIPs ?? [])];
  const loadBalancerIP = status?.loadBalancer?.ingress?.find((entry) => entry.ip)?.ip ?? (spec.loadBalancerIP || undefined);
  if (loadBalancerIP !== undefined && type !== 'LoadBalancer') {
    throw new ServiceError(ref, 'spec.loadBalancerIP', `only LoadBalancer services get a load-balancer address, not ${type}`);
  }
  return {
    namespace: metadata.namespace ?? 'default',
    name: metadata.name,
    type,
    clusterIP,
    selector: spec.selector,
    ports,
    externalIPs,
    loadBalancerIP,
    sessionAffinity:
      spec.sessionAffinity === 'ClientIP'
        ? { timeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS }
        : undefined,
    externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster',
  };
}

export function serviceRef(spec: { readonly namespace: string; readonly name: string }): string {
  return `${spec.namespace}/${spec.name}`;
}
