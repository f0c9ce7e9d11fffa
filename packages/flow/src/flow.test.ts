import { describe, expect, it } from 'vitest';
import { l4Summary, tcpFlagsFromByte, traceObservationPointFromCode, verdictFromCode } from './flow.ts';

describe('flow model', () => {
  it('decodes the TCP flags byte into named flags', () => {
    expect(tcpFlagsFromByte(0x12)).toEqual({ SYN: true, ACK: true });
  });

  it('summarises TCP flags in Hubble’s order', () => {
    expect(l4Summary({ TCP: { flags: tcpFlagsFromByte(0x12) } })).toBe('TCP Flags: SYN, ACK');
    expect(l4Summary({ TCP: { flags: tcpFlagsFromByte(0x11) } })).toBe('TCP Flags: ACK, FIN');
    expect(l4Summary({ TCP: { flags: tcpFlagsFromByte(0x18) } })).toBe('TCP Flags: ACK, PSH');
  });

  it('summarises UDP and ICMP', () => {
    expect(l4Summary({ UDP: { source_port: 1, destination_port: 53 } })).toBe('UDP');
    expect(l4Summary({ ICMPv4: { type: 8 } })).toBe('ICMPv4 EchoRequest');
    expect(l4Summary({ ICMPv6: { type: 129 } })).toBe('ICMPv6 EchoReply');
  });

  it('maps numeric enums the way Hubble numbers them', () => {
    expect(verdictFromCode(1)).toBe('FORWARDED');
    expect(verdictFromCode(2)).toBe('DROPPED');
    expect(verdictFromCode(99)).toBe('VERDICT_UNKNOWN');
    expect(traceObservationPointFromCode(101)).toBe('TO_ENDPOINT');
    expect(traceObservationPointFromCode(5)).toBe('FROM_ENDPOINT');
  });
});
