import { describe, expect, it } from 'vitest';
import { formatCompact } from './compactPrinter.ts';
import type { Flow } from './flow.ts';
import type { GetFlowsResponse } from './observerApi.ts';

function tcpFlow(overrides: Partial<Flow> = {}): Flow {
  return {
    time: '2024-01-01T00:20:34.567891234Z',
    uuid: 'c0ffee00-0000-4000-8000-000000000001',
    verdict: 'FORWARDED',
    IP: { source: '10.244.0.5', destination: '10.244.1.7', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 51234, destination_port: 8080, flags: { SYN: true } } },
    source: { ID: 12, identity: 12345, namespace: 'default', pod_name: 'pod-to-a-5f7c', labels: ['k8s:app=pod-to-a'] },
    destination: { identity: 23456, namespace: 'default', pod_name: 'echo-a-6d9c', labels: ['k8s:app=echo-a'] },
    Type: 'L3_L4',
    node_name: 'node-1',
    is_reply: false,
    event_type: { type: 4 },
    traffic_direction: 'INGRESS',
    trace_observation_point: 'TO_ENDPOINT',
    Summary: 'TCP Flags: SYN',
    ...overrides,
  };
}

function line(flow: Flow, printNodeName = false): string {
  const response: GetFlowsResponse = { flow, node_name: flow.node_name, time: flow.time };
  return formatCompact(response, { timeZone: 'utc', printNodeName });
}

describe('formatCompact', () => {
  it('prints a forwarded TCP flow between pods in Hubble’s layout', () => {
    expect(line(tcpFlow())).toBe(
      'Jan  1 00:20:34.567: default/pod-to-a-5f7c:51234 (ID:12345) -> default/echo-a-6d9c:8080 (ID:23456) to-endpoint FORWARDED (TCP Flags: SYN)',
    );
  });

  it('prints a policy verdict with its match type, direction and outcome as TYPE', () => {
    const verdict = tcpFlow({ event_type: { type: 5, sub_type: 1 }, trace_observation_point: undefined, policy_match_type: 2 });
    expect(line(verdict)).toBe(
      'Jan  1 00:20:34.567: default/pod-to-a-5f7c:51234 (ID:12345) -> default/echo-a-6d9c:8080 (ID:23456) policy-verdict:L3-L4 INGRESS ALLOWED FORWARDED (TCP Flags: SYN)',
    );
    expect(line({ ...verdict, policy_match_type: undefined, traffic_direction: 'EGRESS' })).toContain(' policy-verdict:none EGRESS ALLOWED FORWARDED ');
  });

  it('inserts the node name when asked', () => {
    expect(line(tcpFlow(), true)).toMatch(/^Jan {2}1 00:20:34\.567 \[node-1\]: default\/pod-to-a/);
  });

  it('prints replies from the client side with <-', () => {
    const reply = tcpFlow({
      IP: { source: '10.244.1.7', destination: '10.244.0.5', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 8080, destination_port: 51234, flags: { SYN: true, ACK: true } } },
      source: { identity: 23456, namespace: 'default', pod_name: 'echo-a-6d9c' },
      destination: { identity: 12345, namespace: 'default', pod_name: 'pod-to-a-5f7c' },
      is_reply: true,
      event_type: { type: 4, sub_type: 5 },
      Summary: 'TCP Flags: SYN, ACK',
    });
    expect(line(reply)).toBe(
      'Jan  1 00:20:34.567: default/pod-to-a-5f7c:51234 (ID:12345) <- default/echo-a-6d9c:8080 (ID:23456) from-endpoint FORWARDED (TCP Flags: SYN, ACK)',
    );
  });

  it('prints <> when the direction is unknown', () => {
    const { is_reply: _dropped, ...unknownDirection } = tcpFlow();
    expect(line(unknownDirection)).toContain(' <> ');
  });

  it('shows IP:port and the reserved identity by name for peers without a pod', () => {
    const external = tcpFlow({
      IP: { source: '10.244.0.5', destination: '192.0.2.10', ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 40000, destination_port: 443, flags: { SYN: true } } },
      destination: { identity: 2, labels: ['reserved:world'] },
      event_type: { type: 4, sub_type: 5 },
    });
    expect(line(external)).toBe(
      'Jan  1 00:20:34.567: default/pod-to-a-5f7c:40000 (ID:12345) -> 192.0.2.10:443 (world) from-endpoint FORWARDED (TCP Flags: SYN)',
    );
  });

  it('shows the host identity and omits the port for ICMP', () => {
    const ping = tcpFlow({
      IP: { source: '172.18.0.2', destination: '10.244.0.5', ipVersion: 'IPv4' },
      l4: { ICMPv4: { type: 8 } },
      source: { identity: 1, labels: ['reserved:host'] },
      Summary: 'ICMPv4 EchoRequest',
    });
    expect(line(ping)).toBe(
      'Jan  1 00:20:34.567: 172.18.0.2 (host) -> default/echo-a-6d9c (ID:23456) to-endpoint FORWARDED (ICMPv4 EchoRequest)',
    );
  });

  it('brackets IPv6 addresses that carry a port', () => {
    const v6 = tcpFlow({
      IP: { source: 'fd00::5', destination: '2001:db8::1', ipVersion: 'IPv6' },
      source: { identity: 2 },
      destination: { identity: 2 },
    });
    expect(line(v6)).toContain('[fd00::5]:51234 (world) -> [2001:db8::1]:8080 (world)');
  });

  it('shows the drop reason as the type of a dropped flow', () => {
    const dropped = tcpFlow({ verdict: 'DROPPED', event_type: { type: 1, sub_type: 133 }, drop_reason_desc: 'POLICY_DENIED' });
    expect(line(dropped)).toBe(
      'Jan  1 00:20:34.567: default/pod-to-a-5f7c:51234 (ID:12345) -> default/echo-a-6d9c:8080 (ID:23456) Policy denied DROPPED (TCP Flags: SYN)',
    );
  });

  it('shows the L7 protocol and message kind as the type of an L7 flow', () => {
    const request = tcpFlow({
      Type: 'L7',
      event_type: { type: 129 },
      l7: { type: 'REQUEST', http: { method: 'GET', url: 'http://echo-a:8080/public', protocol: 'HTTP/1.1' } },
      Summary: 'HTTP/1.1 GET http://echo-a:8080/public',
    });
    expect(line(request)).toBe(
      'Jan  1 00:20:34.567: default/pod-to-a-5f7c:51234 (ID:12345) -> default/echo-a-6d9c:8080 (ID:23456) http-request FORWARDED (HTTP/1.1 GET http://echo-a:8080/public)',
    );
    const answer = tcpFlow({ Type: 'L7', event_type: { type: 129 }, l7: { type: 'RESPONSE', dns: { query: 'echo-a.default.svc.cluster.local.' } } });
    expect(line(answer)).toContain(' dns-response FORWARDED ');
  });

  it('prints lost events the way Hubble does', () => {
    const lost: GetFlowsResponse = {
      lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: 12 },
      node_name: 'node-1',
      time: '2024-01-01T00:00:00Z',
    };
    expect(formatCompact(lost)).toBe('EVENTS LOST: HUBBLE_RING_BUFFER CPU(0) 12');
  });
});
