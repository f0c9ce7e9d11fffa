import { randomUUID } from 'node:crypto';
import type { FlowEvent } from '@tycho/datapath';
import {
  dropReasonName,
  isUnicastAddress,
  l4Summary,
  MonitorEventType,
  ReservedIdentity,
  reservedIdentityLabels,
  reservedIdentityName,
  tcpFlagsFromByte,
  timestampFromEpochNs,
  traceObservationPointFromCode,
  traceSubTypeFromObservationPoint,
  verdictFromCode,
  type Endpoint,
  type Flow,
  type Layer4,
  type Service,
  type TraceObservationPoint,
  type TrafficDirection,
} from '@tycho/flow';
import type { IpCacheEntry } from './ipCache.ts';

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;

/** A Hubble flow, with the packet's first payload bytes kept for L7 parsing. */
export interface EnrichedFlow {
  flow: Flow;
  payload: Uint8Array | undefined;
}

export interface FlowEnricherOptions {
  nodeName: string;
  lookupIp: (ip: string) => IpCacheEntry;
  /** CLOCK_BOOTTIME nanoseconds of an event → epoch milliseconds (NodeDatapath.bootNsToWallMs). */
  bootNsToWallMs: (tsNs: number) => number;
  interfaceName: (ifindex: number) => string | undefined;
  /**
   * The address the IP cache knows the pod behind a veth by, for the pod's
   * side of a packet whose own address there names no one (link-local or
   * unspecified, as in Neighbor Discovery and MLD).
   */
  endpointAddressAt?: (ifindex: number) => string | undefined;
  /** Labels of an identity the datapath reports but the IP cache did not give (workload identities). */
  labelsOfIdentity?: (identity: number) => string[] | undefined;
  /**
   * The one service a backend address:port serves (socket-level load-balancing
   * leaves the backend's address on the packets): names `destination_service`
   * of requests and `source_service` of replies.
   */
  serviceOfBackend?: (address: string, port: number, protocol: 'TCP' | 'UDP') => Service | undefined;
  /** Sets the policy fields (`egress_allowed_by`, …) of a flow before its Summary; see flowPolicies.ts. */
  namePolicies?: (flow: Flow) => void;
  newUuid?: () => string;
}

/**
 * Turns the datapath's raw `FlowEvent`s into Hubble `Flow`s: wall-clock time,
 * endpoints from the IP cache, verdict and drop reason, L4 with TCP flags,
 * observation point, direction and summary. Policy-verdict events (type 5)
 * become flows with `policy_match_type` and the direction as sub-type, and no
 * observation point or traffic counters.
 */
export function createFlowEnricher(options: FlowEnricherOptions) {
  const newUuid = options.newUuid ?? randomUUID;

  /**
   * Epoch nanoseconds of a boot-clock timestamp. Only the boot → wall offset
   * goes through floating-point milliseconds (kept to the microsecond), so the
   * event's own nanoseconds survive.
   */
  function wallClockNs(tsNs: number): bigint {
    const offsetUs = Math.round((options.bootNsToWallMs(tsNs) - tsNs / 1e6) * 1000);
    return BigInt(offsetUs) * 1000n + BigInt(Math.round(tsNs));
  }

  function labelsOf(identity: number): string[] {
    const reserved = reservedIdentityName(identity);
    if (reserved) return reservedIdentityLabels(reserved);
    return options.labelsOfIdentity?.(identity) ?? [];
  }

  function enrich(event: FlowEvent): EnrichedFlow {
    const observationPoint = traceObservationPointFromCode(event.obsPoint);
    const dropped = event.type === MonitorEventType.DROP;
    const verdictEvent = event.type === MonitorEventType.POLICY_VERDICT;
    const l4 = layer4(event);
    const direction = verdictEvent ? verdictDirection(event.subType) : trafficDirection(observationPoint, event.isReply);
    const subType = dropped || verdictEvent ? event.subType : traceSubTypeFromObservationPoint(event.obsPoint);
    const interfaceName = options.interfaceName(event.ifindex);
    // Drops and policy verdicts are no traces: Hubble gives them a direction but no observation point.
    const traced = !dropped && !verdictEvent && observationPoint !== 'UNKNOWN_POINT';

    const flow: Flow = {
      time: timestampFromEpochNs(wallClockNs(event.tsNs)),
      uuid: newUuid(),
      verdict: dropped && event.verdict === 0 ? 'DROPPED' : verdictFromCode(event.verdict),
      ...(dropped ? { drop_reason: event.dropReason } : {}),
      IP: { source: event.saddr, destination: event.daddr, ipVersion: event.family === 6 ? 'IPv6' : 'IPv4' },
      ...(l4 ? { l4 } : {}),
      source: endpointAt(event.saddr, event.srcIdentity, observationPoint === 'FROM_ENDPOINT', event.ifindex),
      destination: endpointAt(event.daddr, event.dstIdentity, observationPoint === 'TO_ENDPOINT', event.ifindex),
      Type: 'L3_L4',
      node_name: options.nodeName,
      event_type: subType ? { type: event.type, sub_type: subType } : { type: event.type },
      ...serviceFields(event, l4),
      ...(direction ? { traffic_direction: direction } : {}),
      ...(verdictEvent && event.policyMatch ? { policy_match_type: event.policyMatch } : {}),
      ...(traced ? { trace_observation_point: observationPoint } : {}),
      ...(dropped ? { drop_reason_desc: dropReasonName(event.dropReason) } : {}),
      is_reply: event.isReply,
      interface: interfaceName ? { index: event.ifindex, name: interfaceName } : { index: event.ifindex },
      // A verdict is a decision, not traffic: the connection's trace events carry its counters.
      ...(verdictEvent
        ? {}
        : { traffic: { packets_fwd: event.packetsFwd, bytes_fwd: event.bytesFwd, packets_rev: event.packetsRev, bytes_rev: event.bytesRev } }),
    };
    // Hubble prints the policy fields before Summary (field number order).
    options.namePolicies?.(flow);
    flow.Summary = l4Summary(l4);
    return { flow, payload: event.payload };
  }

  /**
   * One side of a packet. A unicast address is looked up in the IP cache. An
   * address that names no one (link-local, multicast, unspecified; see
   * addressScope.ts) is no key to it: at a pod's veth, the pod's own side (the
   * source leaving it, the destination arriving) is that pod, whatever its
   * address; a peer with such an address has no identity (0), and is not
   * world, which the datapath's ipcache answers for any address it has no
   * entry for.
   */
  function endpointAt(address: string, datapathIdentity: number, podSide: boolean, ifindex: number): Endpoint {
    if (isUnicastAddress(address)) return endpointOf(options.lookupIp(address), datapathIdentity, labelsOf);
    const podAddress = podSide ? options.endpointAddressAt?.(ifindex) : undefined;
    if (podAddress !== undefined) return endpointOf(options.lookupIp(podAddress), datapathIdentity, labelsOf);
    const identity = datapathIdentity === ReservedIdentity.world ? 0 : datapathIdentity;
    return endpointOf({ identity: 0, labels: [] }, identity, labelsOf);
  }

  function serviceFields(event: FlowEvent, l4: Layer4 | undefined): Pick<Flow, 'source_service' | 'destination_service'> {
    const serviceOf = options.serviceOfBackend;
    const protocol = l4?.TCP ? 'TCP' : l4?.UDP ? 'UDP' : undefined;
    if (!serviceOf || !protocol) return {};
    if (event.isReply) {
      const service = serviceOf(event.saddr, event.sport, protocol);
      return service ? { source_service: service } : {};
    }
    const service = serviceOf(event.daddr, event.dport, protocol);
    return service ? { destination_service: service } : {};
  }

  return { enrich } as const;
}

export type FlowEnricher = ReturnType<typeof createFlowEnricher>;

/**
 * At an endpoint's veth, a packet leaving the pod (FROM_ENDPOINT) starts an
 * egress connection and one arriving (TO_ENDPOINT) an ingress one; a reply
 * belongs to the connection of the other side, so it takes the opposite.
 */
function trafficDirection(point: TraceObservationPoint, isReply: boolean): TrafficDirection | undefined {
  if (point === 'FROM_ENDPOINT') return isReply ? 'INGRESS' : 'EGRESS';
  if (point === 'TO_ENDPOINT') return isReply ? 'EGRESS' : 'INGRESS';
  return undefined;
}

/** A policy-verdict event's sub-type is the direction it judged (Cilium's verdict `dir`: 1 ingress, 2 egress). */
function verdictDirection(subType: number): TrafficDirection | undefined {
  if (subType === 1) return 'INGRESS';
  if (subType === 2) return 'EGRESS';
  return undefined;
}

/** For ICMP the datapath carries the type in `sport` and the code in `dport`. */
function layer4(event: FlowEvent): Layer4 | undefined {
  switch (event.proto) {
    case IPPROTO_TCP:
      return { TCP: { source_port: event.sport, destination_port: event.dport, flags: tcpFlagsFromByte(event.tcpFlags) } };
    case IPPROTO_UDP:
      return { UDP: { source_port: event.sport, destination_port: event.dport } };
    case IPPROTO_ICMP:
      return { ICMPv4: { type: event.sport, code: event.dport } };
    case IPPROTO_ICMPV6:
      return { ICMPv6: { type: event.sport, code: event.dport } };
    default:
      return undefined;
  }
}

/**
 * The datapath's identity wins when it knows one (policy fills it in);
 * otherwise the IP cache's. Labels always belong to the identity shown.
 */
function endpointOf(entry: IpCacheEntry, datapathIdentity: number, labelsOf: (identity: number) => string[]): Endpoint {
  const identity = datapathIdentity || entry.identity;
  return {
    ...(entry.endpointId !== undefined ? { ID: entry.endpointId } : {}),
    identity,
    ...(entry.namespace ? { namespace: entry.namespace } : {}),
    labels: identity === entry.identity ? entry.labels : labelsOf(identity),
    ...(entry.podName ? { pod_name: entry.podName } : {}),
    ...(entry.workloads && entry.workloads.length > 0 ? { workloads: entry.workloads } : {}),
  };
}
