import { describe, expect, it } from 'vitest';
import { flowEnds } from './flowEnds.ts';
import { linkKey } from './linkKey.ts';
import { pod, tcpFlow } from './testFlows.ts';

describe('flowEnds', () => {
  const client = pod('default', 'pod-to-a', 300);
  const server = pod('default', 'echo-a', 301);

  it('puts a request on the link from its source to its destination port', () => {
    expect(flowEnds(tcpFlow({ from: client, to: server }))?.linkId).toBe(linkKey('default/pod-to-a', 'TCP', 'default/echo-a', 8080));
  });

  it('turns a reply around onto its request link', () => {
    const ends = flowEnds(tcpFlow({ from: server, to: client, sport: 8080, dport: 40000, reply: true }));
    expect(ends?.linkId).toBe(linkKey('default/pod-to-a', 'TCP', 'default/echo-a', 8080));
    expect(ends?.client.port).toBe(40000);
  });

  it('gives ICMP links port 0', () => {
    const flow = { ...tcpFlow({ from: client, to: server }), l4: { ICMPv4: { type: 8, code: 0 } } };
    expect(flowEnds(flow)).toMatchObject({ protocol: 'ICMPv4', port: 0 });
  });

  it('puts no link-local or multicast traffic on a link (a neighbor solicitation from a pod\'s veth)', () => {
    const flow = { ...tcpFlow({ from: client, to: { identity: 0, labels: [] } }), IP: { source: 'fe80::a8c1:abff:fe12:3456', destination: 'ff02::1:ff00:1', ipVersion: 'IPv6' as const }, l4: { ICMPv6: { type: 135, code: 0 } } };
    expect(flowEnds(flow)).toBeUndefined();
  });
});
