import type { Card, HttpEndpoint } from '@tycho/servicemap';
import type { CardPoliciesState, CardPolicy } from '../../domain/policyDisplay.ts';
import type { Peer } from '../../domain/selection.ts';

export interface CardPanelProps {
  card: Card;
  /** The policies that select the card's pods, from `GET /api/v1/policies`. */
  policies: CardPoliciesState;
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

function enforcementOf(policy: CardPolicy): string {
  const directions = [policy.ingress && 'ingress', policy.egress && 'egress'].filter(Boolean);
  return directions.length > 0 ? `default deny: ${directions.join(' + ')}` : 'selects, no default deny';
}

/** The policies that select the workload, with the directions each turns to default deny. */
function PolicyList({ state }: { state: CardPoliciesState }) {
  const count = state.status === 'ready' ? ` (${state.policies.length})` : '';
  return (
    <section aria-label="Policies" aria-busy={state.status === 'loading'}>
      <h3>Policies{count}</h3>
      {state.status === 'loading' && <p className="muted" data-testid="card-policies-loading">loading policies…</p>}
      {state.status === 'error' && <p className="muted" role="status">policies unavailable: {state.message}</p>}
      {state.status === 'ready' && state.policies.length === 0 && <p className="muted">no policy selects this workload: all traffic is allowed</p>}
      {state.status === 'ready' && state.policies.length > 0 && (
        <ul className="peers">
          {state.policies.map((policy) => (
            <li key={`${policy.kind}/${policy.namespace}/${policy.name}`} data-testid="card-policy">
              <span className="peer-port">{policy.namespace ? `${policy.namespace}/${policy.name}` : policy.name}</span>
              <span>{policy.kind}</span>
              <span className="peer-verdicts">{enforcementOf(policy)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The selected card: identity, labels, pods, the policies that select it, the HTTP endpoints it serves and its peers either way with ports and verdict counts. */
export function CardPanel({ card, policies, inbound, outbound, onSelectCard, onClose }: CardPanelProps) {
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
        {card.services && (<><dt>Services</dt><dd data-testid="card-services">{card.services.join(', ')}</dd></>)}
        <dt>Labels</dt><dd>{card.labels.length ? <ul className="labels">{card.labels.map((label) => <li key={label}>{label}</li>)}</ul> : '—'}</dd>
        <dt>Pods</dt><dd>{card.pods.length ? <ul className="labels">{card.pods.map((pod) => <li key={pod}>{pod}</li>)}</ul> : '—'}</dd>
      </dl>
      {card.namespace !== undefined && <PolicyList state={policies} />}
      {card.httpEndpoints && card.httpEndpoints.length > 0 && <HttpEndpointList endpoints={card.httpEndpoints} />}
      <PeerList title="Inbound" peers={inbound} onSelectCard={onSelectCard} />
      <PeerList title="Outbound" peers={outbound} onSelectCard={onSelectCard} />
    </aside>
  );
}
