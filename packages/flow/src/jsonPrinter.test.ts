import { describe, expect, it } from 'vitest';
import { formatJson } from './jsonPrinter.ts';
import type { Flow } from './flow.ts';

describe('formatJson', () => {
  it('prints the flow first, then node_name and time, on one line', () => {
    const flow: Flow = {
      time: '2024-01-01T00:00:01Z',
      uuid: 'u-1',
      verdict: 'FORWARDED',
      Type: 'L3_L4',
      node_name: 'node-1',
      event_type: { type: 4 },
    };
    expect(formatJson({ time: flow.time, node_name: 'node-1', flow })).toBe(
      '{"flow":{"time":"2024-01-01T00:00:01Z","uuid":"u-1","verdict":"FORWARDED","Type":"L3_L4","node_name":"node-1","event_type":{"type":4}},"node_name":"node-1","time":"2024-01-01T00:00:01Z"}',
    );
  });

  it("prints the policies that decided a flow under Hubble's names, before Summary", () => {
    const policy = { name: 'pod-to-a-allowed-cnp', namespace: 'default', labels: ['k8s:io.cilium.k8s.policy.name=pod-to-a-allowed-cnp'], revision: 2, kind: 'CiliumNetworkPolicy' };
    const flow: Flow = {
      time: '2024-01-01T00:00:01Z',
      uuid: 'u-2',
      verdict: 'DROPPED',
      Type: 'L3_L4',
      node_name: 'node-1',
      event_type: { type: 1, sub_type: 133 },
      drop_reason_desc: 'POLICY_DENIED',
      egress_denied_by: [policy],
      Summary: 'TCP Flags: SYN',
    };
    expect(formatJson({ time: flow.time, node_name: 'node-1', flow })).toBe(
      '{"flow":{"time":"2024-01-01T00:00:01Z","uuid":"u-2","verdict":"DROPPED","Type":"L3_L4","node_name":"node-1","event_type":{"type":1,"sub_type":133},"drop_reason_desc":"POLICY_DENIED",' +
        '"egress_denied_by":[{"name":"pod-to-a-allowed-cnp","namespace":"default","labels":["k8s:io.cilium.k8s.policy.name=pod-to-a-allowed-cnp"],"revision":2,"kind":"CiliumNetworkPolicy"}],' +
        '"Summary":"TCP Flags: SYN"},"node_name":"node-1","time":"2024-01-01T00:00:01Z"}',
    );
  });

  it('prints lost events under lost_events', () => {
    const text = formatJson({
      lost_events: { source: 'PERF_EVENT_RING_BUFFER', num_events_lost: 3 },
      node_name: 'node-2',
      time: '2024-01-01T00:00:02Z',
    });
    expect(JSON.parse(text)).toEqual({
      lost_events: { source: 'PERF_EVENT_RING_BUFFER', num_events_lost: 3 },
      node_name: 'node-2',
      time: '2024-01-01T00:00:02Z',
    });
  });
});
