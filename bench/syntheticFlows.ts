// Flows of a synthetic cluster for the service-map and API benchmarks:
// workloads spread over namespaces, and flows that make a chosen number of
// links between them (or a long stream over a few links).
import type { Flow, Verdict } from '@tycho/flow';

export interface SyntheticMapShape {
  /** Workload cards; a multiple of `namespaces`. */
  cards: number;
  /** Links; a multiple of `cards` (each card sends `links / cards` of them). */
  links: number;
  namespaces: number;
  /** Nodes the flows are spread over (`node_name`, and which agent publishes them). */
  nodes: number;
}

/** Every 20th link is dropped, so the map draws two verdict colours. */
const DROPPED_EVERY = 20;

export function namespaceName(index: number): string {
  return `bench-ns-${String(index).padStart(2, '0')}`;
}

function workloadName(card: number): string {
  return `svc-${String(card).padStart(4, '0')}`;
}

function workloadIp(card: number): string {
  return `10.${100 + (card >> 16)}.${(card >> 8) & 255}.${card & 255}`;
}

export function nodeName(index: number): string {
  return `bench-node-${index + 1}`;
}

/** Where a workload card lives: its namespace, and its node. */
function workloadOf(card: number, shape: SyntheticMapShape) {
  const perNamespace = shape.cards / shape.namespaces;
  const namespace = namespaceName(Math.floor(card / perNamespace));
  const name = workloadName(card);
  return {
    ip: workloadIp(card),
    node: nodeName(card % shape.nodes),
    endpoint: {
      identity: 10_000 + card,
      namespace,
      labels: [`k8s:app=${name}`, `k8s:io.kubernetes.pod.namespace=${namespace}`],
      pod_name: `${name}-7d9c8b5f4-xk2lp`,
      workloads: [{ name, kind: 'Deployment' }],
    },
  };
}

export interface LinkEnds {
  source: number;
  destination: number;
  port: number;
}

/**
 * Link `index` of the map: card `index % cards` sends to the next cards of
 * its namespace on 8080/8081, and its last link goes to the card in the same
 * place of the next namespace on 9090, so islands are joined too.
 */
export function linkEnds(index: number, shape: SyntheticMapShape): LinkEnds {
  const perNamespace = shape.cards / shape.namespaces;
  const perCard = shape.links / shape.cards;
  const source = index % shape.cards;
  const nth = Math.floor(index / shape.cards);
  const namespace = Math.floor(source / perNamespace);
  const position = source % perNamespace;
  if (nth === perCard - 1) {
    const nextNamespace = (namespace + 1) % shape.namespaces;
    return { source, destination: nextNamespace * perNamespace + position, port: 9090 };
  }
  return { source, destination: namespace * perNamespace + ((position + 1 + nth) % perNamespace), port: 8080 + (nth % 2) };
}

export function checkShape(shape: SyntheticMapShape): void {
  const perNamespace = shape.cards / shape.namespaces;
  const perCard = shape.links / shape.cards;
  if (!Number.isInteger(perNamespace) || !Number.isInteger(perCard) || perCard < 1 || perNamespace < perCard) {
    throw new Error(`synthetic map ${JSON.stringify(shape)}: cards must be a multiple of namespaces, links a multiple of cards, and a namespace must hold more cards than each card has links`);
  }
}

/**
 * One TCP flow (a SYN seen leaving the client) on link `index`: the map gets
 * one card per workload and one link per flow.
 */
export function linkFlow(index: number, shape: SyntheticMapShape, timeMs: number, uuid: string, sourcePort = 40_000 + Math.floor(index / shape.cards)): Flow {
  const ends = linkEnds(index, shape);
  const client = workloadOf(ends.source, shape);
  const server = workloadOf(ends.destination, shape);
  const verdict: Verdict = index % DROPPED_EVERY === DROPPED_EVERY - 1 ? 'DROPPED' : 'FORWARDED';
  return {
    time: new Date(timeMs).toISOString(),
    uuid,
    verdict,
    ...(verdict === 'DROPPED' ? { drop_reason: 133, drop_reason_desc: 'POLICY_DENIED' } : {}),
    IP: { source: client.ip, destination: server.ip, ipVersion: 'IPv4' },
    l4: { TCP: { source_port: sourcePort, destination_port: ends.port, flags: { SYN: true } } },
    source: client.endpoint,
    destination: server.endpoint,
    Type: 'L3_L4',
    node_name: client.node,
    event_type: verdict === 'DROPPED' ? { type: 1, sub_type: 133 } : { type: 4, sub_type: 0 },
    trace_observation_point: 'FROM_ENDPOINT',
    traffic_direction: 'EGRESS',
    is_reply: false,
    traffic: { packets_fwd: 1, bytes_fwd: 74, packets_rev: 0, bytes_rev: 0 },
  };
}

/** The flows that draw the whole map: one per link, a millisecond apart, ending at `endMs`. */
export function mapFlows(shape: SyntheticMapShape, endMs: number): Flow[] {
  checkShape(shape);
  return Array.from({ length: shape.links }, (_, i) => linkFlow(i, shape, endMs - shape.links + i, `map-${i}`));
}
