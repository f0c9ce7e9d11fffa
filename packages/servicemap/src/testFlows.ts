import type { Endpoint, Flow } from '@tycho/flow';

/** Small flows for the service map's tests. */

export function pod(namespace: string, workload: string, identity: number, extraLabels: string[] = []): Endpoint {
  return {
    identity,
    namespace,
    labels: [`k8s:name=${workload}`, `k8s:io.kubernetes.pod.namespace=${namespace}`, ...extraLabels],
    pod_name: `${workload}-6d9c7f8b5-x2k9p`,
    workloads: [{ name: workload, kind: 'Deployment' }],
  };
}

export const world: Endpoint = { identity: 2, labels: ['reserved:world'] };
export const host: Endpoint = { identity: 1, labels: ['reserved:host'] };

export interface TcpFlowOptions {
  from: Endpoint;
  to: Endpoint;
  fromIp?: string;
  toIp?: string;
  sport?: number;
  dport?: number;
  time?: string;
  node?: string;
  ifindex?: number;
  point?: Flow['trace_observation_point'];
  verdict?: Flow['verdict'];
  reply?: boolean;
  dropReason?: string;
  traffic?: Flow['traffic'];
  destinationNames?: string[];
}

/** A TCP flow as an agent reports it (for replies, `from`/`to` are the reply packet's). */
export function tcpFlow(options: TcpFlowOptions): Flow {
  return {
    time: options.time ?? '2024-01-01T00:00:00Z',
    uuid: 'u',
    verdict: options.verdict ?? 'FORWARDED',
    ...(options.dropReason ? { drop_reason_desc: options.dropReason } : {}),
    IP: { source: options.fromIp ?? '10.244.0.10', destination: options.toIp ?? '10.244.1.20', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: options.sport ?? 40000, destination_port: options.dport ?? 8080, flags: { SYN: true } } },
    source: options.from,
    destination: options.to,
    Type: 'L3_L4',
    node_name: options.node ?? 'node-1',
    event_type: { type: options.verdict === 'DROPPED' ? 1 : 4 },
    is_reply: options.reply ?? false,
    trace_observation_point: options.point ?? 'FROM_ENDPOINT',
    interface: { index: options.ifindex ?? 10 },
    ...(options.traffic ? { traffic: options.traffic } : {}),
    ...(options.destinationNames ? { destination_names: options.destinationNames } : {}),
  };
}
