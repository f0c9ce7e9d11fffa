import { MonitorEventType, type Flow } from '@tycho/flow';

/** The protocol best describing a flow, as Hubble's metrics name it: the L7 protocol, else the L4 one. */
export function flowProtocol(flow: Flow): string {
  switch (flow.event_type.type) {
    case MonitorEventType.L7:
      if (flow.l7?.dns) return 'DNS';
      if (flow.l7?.http) return 'HTTP';
      return 'Unknown L7';
    case MonitorEventType.DROP:
    case MonitorEventType.TRACE:
    case MonitorEventType.POLICY_VERDICT:
    case MonitorEventType.CAPTURE: {
      const l4 = flow.l4;
      if (l4?.TCP) return 'TCP';
      if (l4?.UDP) return 'UDP';
      if (l4?.ICMPv4) return 'ICMPv4';
      if (l4?.ICMPv6) return 'ICMPv6';
      return 'Unknown L4';
    }
    default:
      return 'Unknown flow';
  }
}
