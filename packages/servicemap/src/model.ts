/**
 * The service map's data model, as `GET /api/v1/service-map` and the
 * `/api/v1/stream` batches carry it (docs/contracts.md, "Service map model").
 */

export type CardKind = 'workload' | 'world' | 'host' | 'remote-node' | 'kube-dns' | 'unknown';

/** Transport protocols a link can carry; ICMP links have port 0. */
export type LinkProtocol = 'TCP' | 'UDP' | 'ICMPv4' | 'ICMPv6';

export interface CardPort {
  port: number;
  protocol: 'TCP' | 'UDP';
  l7?: 'http' | 'dns';
}

export type HttpStatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'other';

/** An HTTP endpoint a card serves: requests seen, and responses by status class. */
export interface HttpEndpoint {
  method: string;
  path: string;
  requests: number;
  statuses: Partial<Record<HttpStatusClass, number>>;
}

export interface Card {
  id: string;
  kind: CardKind;
  namespace?: string;
  title: string;
  subtitle?: string;
  workload?: { name: string; kind: string };
  app?: string;
  identities: number[];
  labels: string[];
  pods: string[];
  /** Ports this card receives on, sorted by port then protocol. */
  ports: CardPort[];
  dnsNames?: string[];
  /** HTTP endpoints seen in L7 flows to this card, most requested first; absent when none. */
  httpEndpoints?: HttpEndpoint[];
  /** `namespace/name` of the services traffic to this card was addressed to (flows' destination_service); absent when none. */
  services?: string[];
}

export type PolicyEffect = 'allowed' | 'denied';
export type PolicyDirection = 'ingress' | 'egress';

/** A policy that a link's flows name in `egress_allowed_by`, `ingress_denied_by`, …, and how many flows named it. */
export interface LinkPolicy {
  name: string;
  /** Absent for clusterwide policies. */
  namespace?: string;
  kind?: string;
  effect: PolicyEffect;
  direction: PolicyDirection;
  flows: number;
}

export interface Link {
  id: string;
  source: string;
  destination: string;
  port: number;
  protocol: LinkProtocol;
  flows: number;
  bytesFwd: number;
  bytesRev: number;
  verdicts: Partial<Record<string, number>>;
  dropReasons: Record<string, number>;
  /** The policies that allowed or denied the link's flows (at most `MAX_POLICIES_PER_LINK`), denying first; absent when none. */
  policies?: LinkPolicy[];
  firstSeen: string;
  lastSeen: string;
  flowsPerSecond: number;
}

export interface ServiceMapSnapshot {
  cards: Card[];
  links: Link[];
}

/** What changed since a version: the `map` part of a stream batch, plus the version it brings the reader to. */
export interface ServiceMapChanges {
  version: number;
  cards: Card[];
  links: Link[];
  removedCards: string[];
  removedLinks: string[];
}

/** `all` (or no namespace) selects the whole cluster. */
export interface NamespaceSelection {
  namespace?: string;
}
