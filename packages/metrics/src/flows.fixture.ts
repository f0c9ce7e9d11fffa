import { MonitorEventType, type Flow } from '@tycho/flow';

/** A forwarded TCP SYN from echo-client to echo-a:8080 (egress), changed by `overrides`. */
export function testFlow(overrides: Partial<Flow> = {}): Flow {
  return {
    time: '2025-01-01T00:00:00.000000000Z',
    uuid: '00000000-0000-4000-8000-000000000000',
    verdict: 'FORWARDED',
    IP: { source: '10.244.0.10', destination: '10.244.1.20', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000, destination_port: 8080, flags: { SYN: true } } },
    source: {
      ID: 12,
      identity: 300,
      namespace: 'default',
      labels: ['k8s:app=client', 'k8s:io.kubernetes.pod.namespace=default'],
      pod_name: 'client-6d8f9c7b5-x2x7k',
      workloads: [{ name: 'client', kind: 'Deployment' }],
    },
    destination: {
      identity: 301,
      namespace: 'default',
      labels: ['k8s:name=echo-a', 'k8s:io.kubernetes.pod.namespace=default'],
      pod_name: 'echo-a-7c9b8d6f4-abcde',
      workloads: [{ name: 'echo-a', kind: 'Deployment' }],
    },
    Type: 'L3_L4',
    node_name: 'node-1',
    is_reply: false,
    event_type: { type: MonitorEventType.TRACE, sub_type: 5 },
    traffic_direction: 'EGRESS',
    trace_observation_point: 'FROM_ENDPOINT',
    ...overrides,
  };
}

/** An L7 flow: `event_type` 129 with the given record. */
export function testL7Flow(l7: NonNullable<Flow['l7']>, overrides: Partial<Flow> = {}): Flow {
  return testFlow({ Type: 'L7', event_type: { type: MonitorEventType.L7 }, l7, ...overrides });
}
