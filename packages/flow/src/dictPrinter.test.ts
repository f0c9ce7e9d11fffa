import { describe, expect, it } from 'vitest';
import type { Flow } from './flow.ts';
import { formatDict } from './dictPrinter.ts';

const flow: Flow = {
  time: '2024-01-01T00:20:34.567Z',
  uuid: 'u-1',
  verdict: 'FORWARDED',
  IP: { source: '10.244.0.5', destination: '10.244.1.7', ipVersion: 'IPv4' },
  l4: { TCP: { source_port: 51234, destination_port: 8080, flags: { SYN: true } } },
  source: { identity: 12345, namespace: 'default', pod_name: 'pod-to-a-5f7c' },
  destination: { identity: 23456, namespace: 'default', pod_name: 'echo-a-6d9c' },
  Type: 'L3_L4',
  node_name: 'node-1',
  is_reply: false,
  event_type: { type: 4, sub_type: 0 },
  Summary: 'TCP Flags: SYN',
};

describe('formatDict', () => {
  it('prints a flow as right-aligned KEY: value lines', () => {
    expect(formatDict({ flow, node_name: 'node-1', time: flow.time }, { timeZone: 'utc' })).toBe(
      [
        '  TIMESTAMP: Jan  1 00:20:34.567',
        '     SOURCE: default/pod-to-a-5f7c:51234',
        'DESTINATION: default/echo-a-6d9c:8080',
        '       TYPE: to-endpoint',
        '    VERDICT: FORWARDED',
        '    SUMMARY: TCP Flags: SYN',
      ].join('\n'),
    );
  });

  it('adds the NODE line with printNodeName', () => {
    const lines = formatDict({ flow, node_name: 'node-1', time: flow.time }, { timeZone: 'utc', printNodeName: true }).split('\n');
    expect(lines[1]).toBe('       NODE: node-1');
  });

  it('prints lost events as an EVENTS LOST block', () => {
    const response = { lost_events: { source: 'HUBBLE_RING_BUFFER' as const, num_events_lost: 3, cpu: 1 }, node_name: 'node-1', time: flow.time };
    expect(formatDict(response)).toBe(
      ['  TIMESTAMP: ', '     SOURCE: HUBBLE_RING_BUFFER', '       TYPE: EVENTS LOST', '    VERDICT: ', '    SUMMARY: CPU(1) - 3'].join('\n'),
    );
  });
});
