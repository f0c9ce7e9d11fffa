import { describe, expect, it } from 'vitest';
import type { Flow } from './flow.ts';
import { formatTable } from './tablePrinter.ts';

const flow: Flow = {
  time: '2024-01-01T00:20:34.567Z',
  uuid: 'u-1',
  verdict: 'DROPPED',
  IP: { source: '10.244.0.5', destination: '10.244.1.7', ipVersion: 'IPv4' },
  l4: { TCP: { source_port: 51234, destination_port: 8080, flags: { SYN: true } } },
  source: { identity: 12345, namespace: 'default', pod_name: 'pod-to-a' },
  destination: { identity: 23456, namespace: 'default', pod_name: 'echo-a' },
  Type: 'L3_L4',
  node_name: 'node-1',
  is_reply: false,
  event_type: { type: 1, sub_type: 133 },
  Summary: 'TCP Flags: SYN',
};
const response = { flow, node_name: 'node-1', time: flow.time };

describe('formatTable', () => {
  it('prints a header and pads every column but the last to its widest cell plus 3', () => {
    const row = (...cells: [string, number][]) => cells.map(([text, width]) => text.padEnd(width)).join('');
    expect(formatTable([response], { timeZone: 'utc' })).toBe(
      [
        row(['TIMESTAMP', 22], ['SOURCE', 25], ['DESTINATION', 22], ['TYPE', 16], ['VERDICT', 10], ['SUMMARY', 0]),
        row(['Jan  1 00:20:34.567', 22], ['default/pod-to-a:51234', 25], ['default/echo-a:8080', 22], ['Policy denied', 16], ['DROPPED', 10], ['TCP Flags: SYN', 0]),
      ].join('\n'),
    );
  });

  it('adds a NODE column with printNodeName', () => {
    const [header, row] = formatTable([response], { timeZone: 'utc', printNodeName: true }).split('\n');
    expect(header).toMatch(/^TIMESTAMP {13}NODE {5}SOURCE /);
    expect(row).toMatch(/^Jan {2}1 00:20:34\.567 {3}node-1 {3}default\/pod-to-a:51234 /);
  });

  it('prints lost events as an EVENTS LOST row', () => {
    const lost = { lost_events: { source: 'HUBBLE_RING_BUFFER' as const, num_events_lost: 3 }, node_name: 'node-1', time: flow.time };
    expect(formatTable([lost]).split('\n')[1]).toBe(`${' '.repeat(12)}HUBBLE_RING_BUFFER${' '.repeat(3 + 14)}EVENTS LOST${' '.repeat(3 + 10)}CPU(0) - 3`);
  });

  it('prints nothing for no responses', () => {
    expect(formatTable([])).toBe('');
  });
});
