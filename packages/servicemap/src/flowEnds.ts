import { isUnicastAddress, type Endpoint, type Flow } from '@tycho/flow';
import { cardIdentityOf, type CardIdentity } from './cardIdentity.ts';
import type { CardIdentityCache, KnownEndpoint } from './cardIdentityCache.ts';
import { linkKey } from './linkKey.ts';
import type { LinkProtocol } from './model.ts';

/** One side of a flow, in the direction of the connection's request. */
export interface FlowSide {
  endpoint: Endpoint | undefined;
  ip: string;
  port: number;
  names: string[] | undefined;
  card: CardIdentity;
  /** The endpoint as the cache knows it, when `flowEnds` was given a cache and the endpoint has a pod or an identity. */
  known?: KnownEndpoint<unknown>;
}

/** Where a flow sits on the map: its request's client and server, and the link between them. */
export interface FlowEnds {
  client: FlowSide;
  server: FlowSide;
  protocol: LinkProtocol;
  /** The server port (0 for ICMP). */
  port: number;
  linkId: string;
}

/**
 * The link a flow belongs to. A reply (`is_reply`) is turned around, so it
 * lands on the link of its request. Undefined for flows without IP or L4, and
 * for traffic between a pod and its own link: a flow with a link-local,
 * multicast or unspecified address at either end (Neighbor Discovery, MLD,
 * mDNS, DHCP; see addressScope.ts in @tycho/flow) is no dependency between
 * services, and such a peer is neither world nor anyone else's card. Those
 * flows stay in the flow stream (`tycho observe`), only the map leaves them out.
 * With `identities`, card identities of endpoints seen before are reused.
 */
export function flowEnds(flow: Flow, identities?: CardIdentityCache<unknown>): FlowEnds | undefined {
  const sides = flowSides(flow, identities);
  if (!sides) return undefined;
  const { client, server, protocol, port } = sides;
  return { client, server, protocol, port, linkId: linkKey(client.card.id, protocol, server.card.id, port) };
}

/** `flowEnds` without the link id, for a caller that finds the link another way first. */
export function flowSides(flow: Flow, identities?: CardIdentityCache<unknown>): Omit<FlowEnds, 'linkId'> | undefined {
  const l4 = flow.l4;
  if (!flow.IP || !l4) return undefined;
  if (!isUnicastAddress(flow.IP.source) || !isUnicastAddress(flow.IP.destination)) return undefined;
  let protocol: LinkProtocol;
  let sourcePort = 0;
  let destinationPort = 0;
  if (l4.TCP) {
    protocol = 'TCP';
    sourcePort = l4.TCP.source_port ?? 0;
    destinationPort = l4.TCP.destination_port ?? 0;
  } else if (l4.UDP) {
    protocol = 'UDP';
    sourcePort = l4.UDP.source_port ?? 0;
    destinationPort = l4.UDP.destination_port ?? 0;
  } else if (l4.ICMPv4) {
    protocol = 'ICMPv4';
  } else if (l4.ICMPv6) {
    protocol = 'ICMPv6';
  } else {
    return undefined;
  }
  const sent = side(flow.source, flow.IP.source, sourcePort, flow.source_names, identities);
  const received = side(flow.destination, flow.IP.destination, destinationPort, flow.destination_names, identities);
  const reply = flow.is_reply === true;
  const client = reply ? received : sent;
  const server = reply ? sent : received;
  return { client, server, protocol, port: server.port };
}

function side(endpoint: Endpoint | undefined, ip: string, port: number, names: string[] | undefined, identities: CardIdentityCache<unknown> | undefined): FlowSide {
  const known = identities?.lookup(endpoint, names);
  return known ? { endpoint, ip, port, names, card: known.identity, known } : { endpoint, ip, port, names, card: cardIdentityOf(endpoint, names) };
}
