import type { Card, HttpEndpoint } from '@tycho/servicemap';
import type { Peer } from '../../domain/selection.ts';

export interface CardPanelProps {
  card: Card;
  inbound: Peer[];
  outbound: Peer[];
  onSelectCard: (id: string) => void;
  onClose: () => void;
}

function verdictSummary(verdicts: Partial<Record<string, number>>): string {
  return Object.entries(verdicts).map(([verdict, count]) => `${count} ${verdict.toLowerCase()}`).join(', ');
}

function portOf(peer: Peer): string {
  const { link } = peer;
  return link.protocol === 'TCP' || link.protocol === 'UDP' ? `${link.port}/${link.protocol}` : link.protocol;
}

function PeerList({ title, peers, onSelectCard }: { title: string; peers: Peer[]; onSelectCard: (id: string) => void }) {
  return (
    <section aria-label={title}>
      <h3>{title} ({peers.length})</h3>
      {peers.length === 0 ? <p className="muted">none</p> : (
        <ul className="peers">
          {peers.map((peer) => (
            <li key={peer.link.id} data-testid="peer">
              <button type="button" className="link-button" onClick={() => onSelectCard(peer.peerId)}>{peer.peer?.title ?? peer.peerId}</button>
              <span className="peer-port">{portOf(peer)}</span>
              <span className="peer-verdicts">{verdictSummary(peer.link.verdicts)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx', '1xx', 'other'] as const;

function statusSummary(endpoint: HttpEndpoint): string {
  return STATUS_CLASSES.flatMap((statusClass) => (endpoint.statuses[statusClass] ? [`${statusClass} ${endpoint.statuses[statusClass]}`] : [])).join(' · ');
}

function HttpEndpointList({ endpoints }: { endpoints: HttpEndpoint[] }) {
  return (
    <section aria-label="HTTP endpoints">
      <h3>HTTP endpoints ({endpoints.length})</h3>
      <ul className="peers">
        {endpoints.map((endpoint) => (
          <li key={`${endpoint.method} ${endpoint.path}`} data-testid="http-endpoint">
            <span className="peer-port">{endpoint.method} {endpoint.path}</span>
            <span>{endpoint.requests} req</span>
            <span className="peer-verdicts">{statusSummary(endpoint) || 'no responses seen'}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The selected card: identity, labels, pods, the HTTP endpoints it serves and its peers either way with ports and verdict counts. */
export function CardPanel({ card, inbound, outbound, onSelectCard, onClose }: CardPanelProps) {
  return (
    <aside className="panel" aria-label={`Details of ${card.title}`} data-testid="card-panel">
      <header className="panel-header">
        <h2>{card.title}</h2>
        <button type="button" onClick={onClose} aria-label="Clear selection">×</button>
      </header>
      <dl className="facts">
        <dt>Kind</dt><dd>{card.kind}{card.workload ? ` · ${card.workload.kind} ${card.workload.name}` : ''}</dd>
        <dt>Namespace</dt><dd>{card.namespace ?? '—'}</dd>
        <dt>Identity</dt><dd>{card.identities.join(', ') || '—'}</dd>
        <dt>Ports</dt><dd>{card.ports.map((p) => [p.port, p.protocol, p.l7].filter(Boolean).join(' · ')).join(', ') || '—'}</dd>
        {card.dnsNames && (<><dt>DNS names</dt><dd>{card.dnsNames.join(', ')}</dd></>)}
        <dt>Labels</dt><dd>{card.labels.length ? <ul className="labels">{card.labels.map((label) => <li key={label}>{label}</li>)}</ul> : '—'}</dd>
        <dt>Pods</dt><dd>{card.pods.length ? <ul className="labels">{card.pods.map((pod) => <li key={pod}>{pod}</li>)}</ul> : '—'}</dd>
      </dl>
      {card.httpEndpoints && card.httpEndpoints.length > 0 && <HttpEndpointList endpoints={card.httpEndpoints} />}
      <PeerList title="Inbound" peers={inbound} onSelectCard={onSelectCard} />
      <PeerList title="Outbound" peers={outbound} onSelectCard={onSelectCard} />
    </aside>
  );
}
