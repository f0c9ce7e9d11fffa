import type { Flow } from '@tycho/flow';
import { linkKey, type Card, type Link } from '@tycho/servicemap';

/** Small cards, links and flows for the web app's tests. */

export function card(id: string, extra: Partial<Card> = {}): Card {
  const slash = id.indexOf('/');
  const namespace = slash > 0 ? id.slice(0, slash) : undefined;
  const title = slash > 0 ? id.slice(slash + 1) : id;
  return {
    id,
    kind: namespace ? 'workload' : 'world',
    ...(namespace ? { namespace } : {}),
    title,
    identities: [300],
    labels: namespace ? [`k8s:name=${title}`, `k8s:io.kubernetes.pod.namespace=${namespace}`] : ['reserved:world'],
    pods: namespace ? [`${title}-6d9c7f8b5-x2k9p`] : [],
    ports: [],
    ...extra,
  };
}

export function link(source: string, destination: string, port = 8080, extra: Partial<Link> = {}): Link {
  return {
    id: linkKey(source, 'TCP', destination, port),
    source,
    destination,
    port,
    protocol: 'TCP',
    flows: 10,
    bytesFwd: 0,
    bytesRev: 0,
    verdicts: { FORWARDED: 10 },
    dropReasons: {},
    firstSeen: '2024-01-01T00:00:00Z',
    lastSeen: '2024-01-01T00:01:00Z',
    flowsPerSecond: 0.5,
    ...extra,
  };
}

export function flow(uuid: string, from: string, to: string, options: { dport?: number; verdict?: Flow['verdict']; time?: string } = {}): Flow {
  const [fromNs = '', fromName = ''] = from.split('/');
  const [toNs = '', toName = ''] = to.split('/');
  return {
    time: options.time ?? '2024-01-01T00:00:00Z',
    uuid,
    verdict: options.verdict ?? 'FORWARDED',
    IP: { source: '10.244.0.10', destination: '10.244.1.20', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000, destination_port: options.dport ?? 8080, flags: { SYN: true } } },
    source: { identity: 300, namespace: fromNs, pod_name: `${fromName}-6d9c7f8b5-x2k9p`, workloads: [{ name: fromName, kind: 'Deployment' }], labels: [] },
    destination: { identity: 301, namespace: toNs, pod_name: `${toName}-6d9c7f8b5-x2k9p`, workloads: [{ name: toName, kind: 'Deployment' }], labels: [] },
    Type: 'L3_L4',
    node_name: 'node-1',
    event_type: { type: 4 },
    traffic_direction: 'EGRESS',
    is_reply: false,
  };
}

/** `count` cards spread over `namespaces` namespaces and `linkCount` links between them, deterministic. */
export function syntheticMap(count: number, namespaces: number, linkCount: number): { cards: Card[]; links: Link[] } {
  const cards = Array.from({ length: count }, (_, i) => card(`ns-${i % namespaces}/w-${i}`, { ports: [{ port: 8080, protocol: 'TCP' }] }));
  const links = Array.from({ length: linkCount }, (_, i) => {
    const source = cards[(i * 7919) % count];
    const destination = cards[(i * 104_729 + 1) % count];
    return link(source?.id ?? '', destination?.id ?? '', 8080 + (i % 3));
  });
  return { cards, links: [...new Map(links.map((l) => [l.id, l])).values()] };
}
