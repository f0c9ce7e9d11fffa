import { dropReasonName, isPolicyVerdict, type Endpoint, type Flow, type TrafficCounters } from '@tycho/flow';
import type { CardIdentity } from './cardIdentity.ts';
import { CardIdentityCache, type KnownEndpoint } from './cardIdentityCache.ts';
import { flowSides, type FlowSide } from './flowEnds.ts';
import { linkKey } from './linkKey.ts';
import { FlowTimeParser } from './flowTime.ts';
import { HttpEndpoints } from './httpEndpoints.ts';
import { LinkPolicies } from './linkPolicies.ts';
import type { Card, CardPort, Link, LinkProtocol, NamespaceSelection, ServiceMapChanges, ServiceMapSnapshot } from './model.ts';
import { RateWindow } from './rateWindow.ts';

export interface ServiceMapOptions {
  /** A link with no flow for this long is removed by `tick()` (and a card left without links with it). Default 5 min. */
  linkIdleMs?: number;
  /** Connection bookkeeping (dedupe, traffic deltas) is forgotten after this long without a flow. Default 2 min. */
  connectionIdleMs?: number;
  /** Removals are reported by `changesSince` for this long. Default 10 min. */
  removalMemoryMs?: number;
  now?: () => number;
}

interface CardState {
  identity: CardIdentity;
  version: number;
  identities: Set<number>;
  labels: Set<string>;
  pods: Set<string>;
  dnsNames: Set<string>;
  /** `port/protocol` → the L7 protocol seen there, if any. */
  l7ByPort: Map<string, 'http' | 'dns'>;
  /** Created with the card's first L7 HTTP flow. */
  httpEndpoints: HttpEndpoints | undefined;
  /** `namespace/name` of the services its flows were addressed to (Hubble's destination_service). */
  services: Set<string> | undefined;
  inbound: Set<string>;
  outbound: Set<string>;
  /** Set when `tick()` removes the card: an endpoint's slot that still holds it must look it up again. */
  removed: boolean;
}

interface LinkState {
  id: string;
  source: string;
  destination: string;
  port: number;
  protocol: LinkProtocol;
  /** The version that created the link. */
  createdVersion: number;
  version: number;
  flows: number;
  bytesFwd: number;
  bytesRev: number;
  verdicts: Record<string, number>;
  dropReasons: Record<string, number>;
  /** Created with the link's first flow that names a policy. */
  policies: LinkPolicies | undefined;
  firstSeen: string;
  firstSeenMs: number;
  lastSeen: string;
  lastSeenMs: number;
  rate: RateWindow;
  /** flows/s as last reported, so `tick()` knows when the decayed rate is news. */
  reportedRate: number;
  /** Set when `tick()` removes the link: a cache that still holds it must look it up again. */
  removed: boolean;
  /** The connections seen on this link, by client port: found without building their keys (see `connectionOf`). */
  connections: Map<number, ConnectionState>;
}

interface ConnectionState {
  /** The observer (node + interface, or observation point without one) whose flows count for this connection. */
  countingNode: string | undefined;
  countingPoint: number | string;
  /** The observation point (node + point) whose traffic counters count for it, once one reported any. */
  trafficObserved: boolean;
  trafficNode: string | undefined;
  trafficPoint: string | undefined;
  lastTraffic: TrafficCounters | undefined;
  lastSeenMs: number;
  /** The addresses of its key, to tell it apart from another connection with the same client port on the same link. */
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  /** Set when `tick()` forgets the connection. */
  expired: boolean;
  /** The link cache that holds it, under its client port. */
  cachedOn: Map<number, ConnectionState> | undefined;
}

/**
 * What the map keeps on an endpoint the identity cache knows: the card it was
 * last merged into, and the links it is the client of, by the server's entry
 * and `linkSlot(protocol, port)`. Both entries stand for fixed card
 * identities, so a link found here is the one `linkKey` of those cards names,
 * unless `tick()` removed it since.
 */
interface EndpointSlot {
  card: CardState | undefined;
  links: Map<KnownEndpoint<EndpointSlot>, Map<number, LinkState>> | undefined;
}

const DEFAULT_LINK_IDLE_MS = 5 * 60_000;
const DEFAULT_CONNECTION_IDLE_MS = 2 * 60_000;
const DEFAULT_REMOVAL_MEMORY_MS = 10 * 60_000;
/** Servers cached per client endpoint, and links per server, before the cache starts over (only a bound on memory). */
const MAX_CACHED_SERVERS = 256;
const MAX_CACHED_LINKS_PER_SERVER = 32;
const PROTOCOL_SLOTS: Record<LinkProtocol, number> = { TCP: 0, UDP: 1, ICMPv4: 2, ICMPv6: 3 };

/**
 * The live service map: cards (workloads and the special peers world, host,
 * remote-node, kube-dns) and links (source card → protocol → destination
 * card:port) aggregated from flows.
 *
 * Direction: a reply flow (`is_reply`) belongs to the link of its request, so
 * its source and destination are swapped before it is placed.
 *
 * Counting: a packet between two pods is observed twice (FROM_ENDPOINT at the
 * sender's interface, TO_ENDPOINT at the receiver's, possibly on two nodes).
 * Each connection (protocol + addresses and ports in the request direction)
 * is counted at one observer only: the node + interface of its first flow.
 * Flows of the same connection seen elsewhere do not add to the link, except
 * drops: a packet dies where it is dropped, so a drop is never a second
 * observation of a packet already dropped, and it always counts.
 * Bytes come from `flow.traffic` (cumulative conntrack counters) of a single
 * observation point per connection, the first that reported them; the link
 * adds the deltas. Only L3/L4 events count as flows; L7 events only mark the
 * destination port's protocol (`8080 · TCP · http`) and count the HTTP
 * endpoints (method + path) the destination card serves. Flows without L4 are
 * skipped, and so is traffic a pod has with its own link (link-local,
 * multicast or unspecified addresses: Neighbor Discovery, MLD; see flowEnds).
 *
 * Versions: every change stamps the card or link with a new version;
 * `changesSince(v)` returns what changed after `v`. Call `tick()` about once
 * a second: it expires idle links and connections and re-stamps links whose
 * flows/s decayed, so subscribers see rates fall to zero.
 */
export class ServiceMap {
  private readonly cards = new Map<string, CardState>();
  private readonly links = new Map<string, LinkState>();
  private readonly connections = new Map<string, ConnectionState>();
  /** Card identities of the endpoints seen, each with what the map keeps on it (`EndpointSlot`). */
  private readonly identities = new CardIdentityCache<EndpointSlot>();
  private readonly times = new FlowTimeParser();
  private readonly removedCards = new Map<string, { version: number; atMs: number }>();
  private readonly removedLinks = new Map<string, { version: number; atMs: number }>();
  private currentVersion = 0;
  private readonly linkIdleMs: number;
  private readonly connectionIdleMs: number;
  private readonly removalMemoryMs: number;
  private readonly now: () => number;

  constructor(options: ServiceMapOptions = {}) {
    this.linkIdleMs = options.linkIdleMs ?? DEFAULT_LINK_IDLE_MS;
    this.connectionIdleMs = options.connectionIdleMs ?? DEFAULT_CONNECTION_IDLE_MS;
    this.removalMemoryMs = options.removalMemoryMs ?? DEFAULT_REMOVAL_MEMORY_MS;
    this.now = options.now ?? Date.now;
  }

  /** The version of the latest change; 0 for an empty map. */
  get version(): number {
    return this.currentVersion;
  }

  get size(): { cards: number; links: number } {
    return { cards: this.cards.size, links: this.links.size };
  }

  addAll(flows: Iterable<Flow>): void {
    for (const flow of flows) this.add(flow);
  }

  add(flow: Flow): void {
    // A policy verdict repeats its connection's first packet, which the trace flow counts.
    if (isPolicyVerdict(flow)) return;
    const ends = flowSides(flow, this.identities);
    if (!ends) return;
    const { client, server, protocol, port } = ends;
    const atMs = this.times.ms(flow.time) ?? this.now();
    const sourceCard = this.cardOf(client);
    const destinationCard = this.cardOf(server);
    // A reply is turned around: its source is the server the service sent to.
    const service = flow.is_reply ? flow.source_service : flow.destination_service;
    if (service) this.markService(destinationCard, service);

    if (flow.Type === 'L7') {
      this.markL7(destinationCard, port, protocol, flow);
      return;
    }

    const node = flow.node_name;
    const observerPoint = flow.interface?.index ?? flow.trace_observation_point ?? '';
    const cachedLink = this.cachedLink(client, server, protocol, port);
    const connection = this.connectionOf(cachedLink, protocol, client, server, node, observerPoint, atMs);
    connection.lastSeenMs = Math.max(connection.lastSeenMs, atMs);
    const counts = (connection.countingNode === node && connection.countingPoint === observerPoint) || flow.verdict === 'DROPPED';
    const traffic = this.trafficDelta(connection, node, flow.trace_observation_point ?? '', flow.traffic);
    // Egress verdicts are reported where a packet leaves its pod, ingress verdicts where it arrives: every observation names its own policies.
    const namesPolicies = hasPolicies(flow);
    if (!counts && !traffic && !namesPolicies) return;

    let link: LinkState;
    if (cachedLink === undefined) {
      link = this.linkFor(client, server, sourceCard, destinationCard, protocol, port, flow.time, atMs);
      this.cacheConnection(link, connection);
    } else {
      link = this.seeLink(cachedLink, flow.time, atMs);
    }
    if (counts) {
      link.flows += 1;
      link.verdicts[flow.verdict] = (link.verdicts[flow.verdict] ?? 0) + 1;
      if (flow.verdict === 'DROPPED') {
        const reason = flow.drop_reason_desc ?? dropReasonName(flow.drop_reason ?? 0);
        link.dropReasons[reason] = (link.dropReasons[reason] ?? 0) + 1;
      }
      link.rate.add(atMs);
    }
    if (namesPolicies) (link.policies ??= new LinkPolicies()).record(flow);
    if (traffic) {
      link.bytesFwd += traffic.bytesFwd;
      link.bytesRev += traffic.bytesRev;
    }
    link.reportedRate = roundRate(link.rate.perSecond(this.now()));
    link.version = this.nextVersion();
  }

  /** Cards and links, all of them or those of one namespace (cards in it, links touching it, and their peers). */
  snapshot(selection: NamespaceSelection = {}): ServiceMapSnapshot {
    const namespace = selectedNamespace(selection);
    const nowMs = this.now();
    const links: Link[] = [];
    const cardIds = new Set<string>();
    for (const link of this.links.values()) {
      if (namespace !== undefined && !this.linkTouches(link, namespace)) continue;
      links.push(this.linkView(link, nowMs));
      cardIds.add(link.source);
      cardIds.add(link.destination);
    }
    const cards: Card[] = [];
    for (const [id, card] of this.cards) {
      if (cardIds.has(id) || namespace === undefined || card.identity.namespace === namespace) cards.push(this.cardView(card));
    }
    return { cards: cards.sort(byId), links: links.sort(byId) };
  }

  /**
   * What changed after `version`: cards and links to upsert (for a
   * namespace: those that concern it), both cards of every link created
   * since (so a reader never holds a link without its cards), and the ids
   * removed since. A reader then continues from the
   * returned `version`.
   */
  changesSince(version: number, selection: NamespaceSelection = {}): ServiceMapChanges {
    const namespace = selectedNamespace(selection);
    const nowMs = this.now();
    const links: Link[] = [];
    const cardIds = new Set<string>();
    for (const link of this.links.values()) {
      if (link.version <= version) continue;
      if (namespace !== undefined && !this.linkTouches(link, namespace)) continue;
      links.push(this.linkView(link, nowMs));
      if (link.createdVersion > version) {
        cardIds.add(link.source);
        cardIds.add(link.destination);
      }
    }
    for (const [id, card] of this.cards) {
      if (card.version > version && (namespace === undefined || this.cardConcerns(card, namespace))) cardIds.add(id);
    }
    const cards: Card[] = [];
    for (const id of cardIds) {
      const card = this.cards.get(id);
      if (card) cards.push(this.cardView(card));
    }
    return {
      version: this.currentVersion,
      cards: cards.sort(byId),
      links: links.sort(byId),
      removedCards: idsRemovedAfter(this.removedCards, version),
      removedLinks: idsRemovedAfter(this.removedLinks, version),
    };
  }

  /**
   * Advances the map's clock: removes links idle longer than `linkIdleMs`
   * (and cards left without links), forgets idle connections and old
   * removals, and re-stamps links whose flows/s changed.
   */
  tick(): void {
    const nowMs = this.now();
    for (const [key, connection] of this.connections) {
      if (nowMs - connection.lastSeenMs > this.connectionIdleMs) {
        this.connections.delete(key);
        connection.expired = true;
        if (connection.cachedOn?.get(connection.clientPort) === connection) connection.cachedOn.delete(connection.clientPort);
      }
    }
    for (const link of [...this.links.values()]) {
      if (nowMs - link.lastSeenMs > this.linkIdleMs) {
        this.removeLink(link, nowMs);
        continue;
      }
      const rate = roundRate(link.rate.perSecond(nowMs));
      if (rate !== link.reportedRate) {
        link.reportedRate = rate;
        link.version = this.nextVersion();
      }
    }
    for (const removals of [this.removedCards, this.removedLinks]) {
      for (const [id, removal] of removals) if (nowMs - removal.atMs > this.removalMemoryMs) removals.delete(id);
    }
  }

  private nextVersion(): number {
    this.currentVersion += 1;
    return this.currentVersion;
  }

  /**
   * The card of one side of a flow, through `touchCard`, which is skipped for
   * an endpoint already merged, as it is now, into the card it belongs to
   * (merging it again would change nothing). World cards still see every flow:
   * they collect all the DNS names flows give them.
   */
  private cardOf(side: FlowSide): CardState {
    const known = side.known as KnownEndpoint<EndpointSlot> | undefined;
    const merged = known?.slot?.card;
    if (merged !== undefined && !merged.removed) return merged;
    const card = this.touchCard(side.card, side.endpoint, side.names);
    if (known && card.identity.kind !== 'world') (known.slot ??= { card: undefined, links: undefined }).card = card;
    return card;
  }

  /**
   * The link of a client and server the identity cache knows, as long as
   * `tick()` has not removed it: two map lookups by object and number instead
   * of building the link's id and hashing it.
   */
  private cachedLink(client: FlowSide, server: FlowSide, protocol: LinkProtocol, port: number): LinkState | undefined {
    const serverKnown = server.known as KnownEndpoint<EndpointSlot> | undefined;
    const links = (client.known as KnownEndpoint<EndpointSlot> | undefined)?.slot?.links;
    if (serverKnown === undefined || links === undefined) return undefined;
    const link = links.get(serverKnown)?.get(linkSlot(protocol, port));
    return link === undefined || link.removed ? undefined : link;
  }

  /** The link of `linkKey` for these sides, made if need be, and remembered for `cachedLink` when both are known. */
  private linkFor(client: FlowSide, server: FlowSide, sourceCard: CardState, destinationCard: CardState, protocol: LinkProtocol, port: number, time: string, atMs: number): LinkState {
    const link = this.touchLink(sourceCard, destinationCard, protocol, port, linkKey(client.card.id, protocol, server.card.id, port), time, atMs);
    const clientKnown = client.known as KnownEndpoint<EndpointSlot> | undefined;
    const serverKnown = server.known as KnownEndpoint<EndpointSlot> | undefined;
    if (clientKnown === undefined || serverKnown === undefined) return link;
    const slot = (clientKnown.slot ??= { card: undefined, links: undefined });
    const servers = (slot.links ??= new Map());
    let links = servers.get(serverKnown);
    if (links === undefined) {
      if (servers.size >= MAX_CACHED_SERVERS) servers.clear();
      links = new Map();
      servers.set(serverKnown, links);
    }
    if (links.size >= MAX_CACHED_LINKS_PER_SERVER) links.clear();
    links.set(linkSlot(protocol, port), link);
    return link;
  }

  /**
   * The connection of a flow, made if need be. Keyed by protocol, addresses
   * and ports in the request direction; on a link already found, it is looked
   * up by client port among the link's connections first (the link fixes the
   * protocol and server port), which spares building and hashing the key.
   */
  private connectionOf(link: LinkState | undefined, protocol: LinkProtocol, client: FlowSide, server: FlowSide, node: string | undefined, observerPoint: number | string, atMs: number): ConnectionState {
    const cached = link?.connections.get(client.port);
    if (cached !== undefined && !cached.expired && cached.clientIp === client.ip && cached.serverIp === server.ip) return cached;
    const key = protocol === 'TCP' || protocol === 'UDP'
      ? `${protocol}|${client.ip}|${client.port}|${server.ip}|${server.port}`
      : `${protocol}|${client.ip}|${server.ip}`;
    let connection = this.connections.get(key);
    if (!connection) {
      connection = {
        countingNode: node,
        countingPoint: observerPoint,
        trafficObserved: false,
        trafficNode: undefined,
        trafficPoint: undefined,
        lastTraffic: undefined,
        lastSeenMs: atMs,
        clientIp: client.ip,
        clientPort: client.port,
        serverIp: server.ip,
        expired: false,
        cachedOn: undefined,
      };
      this.connections.set(key, connection);
    }
    if (link !== undefined) this.cacheConnection(link, connection);
    return connection;
  }

  private cacheConnection(link: LinkState, connection: ConnectionState): void {
    link.connections.set(connection.clientPort, connection);
    connection.cachedOn = link.connections;
  }

  private touchCard(identity: CardIdentity, endpoint: Endpoint | undefined, names: string[] | undefined): CardState {
    let card = this.cards.get(identity.id);
    let changed = false;
    if (!card) {
      card = {
        identity,
        version: 0,
        identities: new Set(),
        labels: new Set(),
        pods: new Set(),
        dnsNames: new Set(),
        l7ByPort: new Map(),
        httpEndpoints: undefined,
        services: undefined,
        inbound: new Set(),
        outbound: new Set(),
        removed: false,
      };
      this.cards.set(identity.id, card);
      this.removedCards.delete(identity.id);
      changed = true;
    } else if (!card.identity.workload && identity.workload) {
      card.identity = identity;
      changed = true;
    }
    if (endpoint?.identity !== undefined && !card.identities.has(endpoint.identity)) {
      card.identities.add(endpoint.identity);
      changed = true;
    }
    for (const label of endpoint?.labels ?? []) {
      if (!card.labels.has(label)) {
        card.labels.add(label);
        changed = true;
      }
    }
    if (endpoint?.pod_name && !card.pods.has(endpoint.pod_name)) {
      card.pods.add(endpoint.pod_name);
      changed = true;
    }
    if (card.identity.kind === 'world') {
      for (const name of names ?? []) {
        const dnsName = name.replace(/\.$/, '');
        if (dnsName && !card.dnsNames.has(dnsName)) {
          card.dnsNames.add(dnsName);
          changed = true;
        }
      }
    }
    if (changed) card.version = this.nextVersion();
    return card;
  }

  private touchLink(source: CardState, destination: CardState, protocol: LinkProtocol, port: number, id: string, time: string, atMs: number): LinkState {
    let link = this.links.get(id);
    if (!link) {
      link = {
        id,
        source: source.identity.id,
        destination: destination.identity.id,
        port,
        protocol,
        createdVersion: this.currentVersion + 1,
        version: 0,
        flows: 0,
        bytesFwd: 0,
        bytesRev: 0,
        verdicts: {},
        dropReasons: {},
        policies: undefined,
        firstSeen: time,
        firstSeenMs: atMs,
        lastSeen: time,
        lastSeenMs: atMs,
        rate: new RateWindow(),
        reportedRate: 0,
        removed: false,
        connections: new Map(),
      };
      this.links.set(id, link);
      this.removedLinks.delete(id);
      source.outbound.add(id);
      destination.inbound.add(id);
      if (protocol === 'TCP' || protocol === 'UDP') destination.version = this.nextVersion(); // a new port on the card
    }
    return this.seeLink(link, time, atMs);
  }

  private seeLink(link: LinkState, time: string, atMs: number): LinkState {
    if (atMs < link.firstSeenMs) {
      link.firstSeen = time;
      link.firstSeenMs = atMs;
    }
    if (atMs > link.lastSeenMs) {
      link.lastSeen = time;
      link.lastSeenMs = atMs;
    }
    return link;
  }

  private markService(card: CardState, service: { name: string; namespace?: string }): void {
    const key = `${service.namespace ?? ''}/${service.name}`;
    if (card.services?.has(key)) return;
    (card.services ??= new Set()).add(key);
    card.version = this.nextVersion();
  }

  private markL7(card: CardState, port: number, protocol: LinkProtocol, flow: Flow): void {
    const l7 = flow.l7?.http ? 'http' : flow.l7?.dns ? 'dns' : undefined;
    const key = `${port}/${protocol}`;
    const endpointsChanged = l7 === 'http' && (card.httpEndpoints ??= new HttpEndpoints()).record(flow);
    if (!l7 || (card.l7ByPort.get(key) === l7 && !endpointsChanged)) return;
    card.l7ByPort.set(key, l7);
    card.version = this.nextVersion();
  }

  /** The traffic to add for this flow, if its observation point is the one that counts bytes for the connection. */
  private trafficDelta(connection: ConnectionState, node: string | undefined, point: string, traffic: TrafficCounters | undefined): { bytesFwd: number; bytesRev: number } | undefined {
    if (!traffic) return undefined;
    if (!connection.trafficObserved) {
      connection.trafficObserved = true;
      connection.trafficNode = node;
      connection.trafficPoint = point;
    } else if (connection.trafficNode !== node || connection.trafficPoint !== point) {
      return undefined;
    }
    const last = connection.lastTraffic;
    connection.lastTraffic = traffic;
    // Counters only grow for one connection; smaller ones mean the 5-tuple was reused by a new connection.
    const reset = last !== undefined && (traffic.bytes_fwd < last.bytes_fwd || traffic.bytes_rev < last.bytes_rev);
    const bytesFwd = last && !reset ? traffic.bytes_fwd - last.bytes_fwd : traffic.bytes_fwd;
    const bytesRev = last && !reset ? traffic.bytes_rev - last.bytes_rev : traffic.bytes_rev;
    return bytesFwd > 0 || bytesRev > 0 ? { bytesFwd, bytesRev } : undefined;
  }

  private removeLink(link: LinkState, nowMs: number): void {
    this.links.delete(link.id);
    link.removed = true;
    const version = this.nextVersion();
    this.removedLinks.set(link.id, { version, atMs: nowMs });
    const source = this.cards.get(link.source);
    const destination = this.cards.get(link.destination);
    source?.outbound.delete(link.id);
    if (destination) {
      destination.inbound.delete(link.id);
      destination.version = this.nextVersion(); // its ports may have changed
    }
    for (const card of [source, destination]) {
      if (card && card.inbound.size === 0 && card.outbound.size === 0) {
        this.cards.delete(card.identity.id);
        card.removed = true;
        this.removedCards.set(card.identity.id, { version: this.nextVersion(), atMs: nowMs });
      }
    }
  }

  private linkTouches(link: LinkState, namespace: string): boolean {
    return this.cards.get(link.source)?.identity.namespace === namespace || this.cards.get(link.destination)?.identity.namespace === namespace;
  }

  private cardConcerns(card: CardState, namespace: string): boolean {
    if (card.identity.namespace === namespace) return true;
    for (const id of card.inbound) if (this.cards.get(this.links.get(id)?.source ?? '')?.identity.namespace === namespace) return true;
    for (const id of card.outbound) if (this.cards.get(this.links.get(id)?.destination ?? '')?.identity.namespace === namespace) return true;
    return false;
  }

  /**
   * A link as readers see it. Written as two object literals rather than one
   * with a conditional spread in the middle, which makes V8 add the members
   * after it one at a time; the keys are in the same order either way.
   */
  private linkView(link: LinkState, nowMs: number): Link {
    const flowsPerSecond = roundRate(link.rate.perSecond(nowMs));
    if (link.policies && link.policies.size > 0) {
      return {
        id: link.id,
        source: link.source,
        destination: link.destination,
        port: link.port,
        protocol: link.protocol,
        flows: link.flows,
        bytesFwd: link.bytesFwd,
        bytesRev: link.bytesRev,
        verdicts: { ...link.verdicts },
        dropReasons: { ...link.dropReasons },
        policies: link.policies.view(),
        firstSeen: link.firstSeen,
        lastSeen: link.lastSeen,
        flowsPerSecond,
      };
    }
    return {
      id: link.id,
      source: link.source,
      destination: link.destination,
      port: link.port,
      protocol: link.protocol,
      flows: link.flows,
      bytesFwd: link.bytesFwd,
      bytesRev: link.bytesRev,
      verdicts: { ...link.verdicts },
      dropReasons: { ...link.dropReasons },
      firstSeen: link.firstSeen,
      lastSeen: link.lastSeen,
      flowsPerSecond,
    };
  }

  private cardView(card: CardState): Card {
    const { identity } = card;
    return {
      id: identity.id,
      kind: identity.kind,
      ...(identity.namespace !== undefined ? { namespace: identity.namespace } : {}),
      title: identity.title,
      ...(identity.subtitle !== undefined ? { subtitle: identity.subtitle } : {}),
      ...(identity.workload ? { workload: { ...identity.workload } } : {}),
      ...(identity.app !== undefined ? { app: identity.app } : {}),
      identities: [...card.identities].sort((a, b) => a - b),
      labels: [...card.labels].sort(),
      pods: [...card.pods].sort(),
      ports: portsOf(card, this.links),
      ...(identity.kind === 'world' && card.dnsNames.size > 0 ? { dnsNames: [...card.dnsNames].sort() } : {}),
      ...(card.httpEndpoints && card.httpEndpoints.size > 0 ? { httpEndpoints: card.httpEndpoints.view() } : {}),
      ...(card.services ? { services: [...card.services].sort() } : {}),
    };
  }
}

/** The ports a card receives on: those of its inbound TCP/UDP links, with the L7 protocol seen there. */
function portsOf(card: CardState, links: ReadonlyMap<string, LinkState>): CardPort[] {
  const ports = new Map<string, CardPort>();
  for (const id of card.inbound) {
    const link = links.get(id);
    if (!link || (link.protocol !== 'TCP' && link.protocol !== 'UDP')) continue;
    const key = `${link.port}/${link.protocol}`;
    if (ports.has(key)) continue;
    const l7 = card.l7ByPort.get(key);
    ports.set(key, { port: link.port, protocol: link.protocol, ...(l7 ? { l7 } : {}) });
  }
  return [...ports.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}


/** A link's key among those of one client and server: its protocol and server port. */
function linkSlot(protocol: LinkProtocol, port: number): number {
  return port * 4 + PROTOCOL_SLOTS[protocol];
}

function hasPolicies(flow: Flow): boolean {
  return Boolean(flow.egress_allowed_by?.length || flow.ingress_allowed_by?.length || flow.egress_denied_by?.length || flow.ingress_denied_by?.length);
}

function selectedNamespace(selection: NamespaceSelection): string | undefined {
  return selection.namespace === undefined || selection.namespace === '' || selection.namespace === 'all' ? undefined : selection.namespace;
}

function roundRate(perSecond: number): number {
  return Math.round(perSecond * 1000) / 1000;
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function idsRemovedAfter(removals: ReadonlyMap<string, { version: number }>, version: number): string[] {
  const ids: string[] = [];
  for (const [id, removal] of removals) if (removal.version > version) ids.push(id);
  return ids.sort();
}
