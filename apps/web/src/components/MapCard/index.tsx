import { memo } from 'react';
import type { Card } from '@tycho/servicemap';
import type { CardBox } from '../../layout/mapLayout.ts';
import { httpEndpointsSummary } from '../../domain/httpEndpointsSummary.ts';
import { cardLabel } from '../../domain/selection.ts';

export interface MapCardProps {
  card: Card;
  box: CardBox;
  selected: boolean;
  dimmed: boolean;
  onSelect: (id: string) => void;
}

const KIND_LABELS: Record<Card['kind'], string> = {
  workload: '',
  world: 'world',
  host: 'host',
  'remote-node': 'remote node',
  'kube-dns': 'DNS',
  unknown: 'unknown',
};

/**
 * One card: title, namespace (or kind) and the ports it receives on
 * (`8080 · TCP · http`), as many rows as its box has; the first http port row
 * also names the HTTP endpoints the card serves (`GET /public /private`).
 */
export const MapCard = memo(function MapCard({ card, box, selected, dimmed, onSelect }: MapCardProps) {
  const shown = card.ports.length > box.portRows ? card.ports.slice(0, Math.max(0, box.portRows - 1)) : card.ports;
  const hidden = card.ports.length - shown.length;
  const endpoints = httpEndpointsSummary(card.httpEndpoints);
  const endpointsPort = endpoints ? shown.find((port) => port.l7 === 'http') : undefined;
  return (
    <button
      type="button"
      className={`card card-${card.kind}${selected ? ' selected' : ''}${dimmed ? ' dimmed' : ''}`}
      // Off-screen cards are neither laid out nor painted; their size is the box's.
      style={{ left: box.x, top: box.y, width: box.width, height: box.height, contentVisibility: 'auto' }}
      data-testid="card"
      data-card-id={card.id}
      aria-pressed={selected}
      aria-label={cardLabel(card)}
      onClick={() => onSelect(card.id)}
    >
      <span className="card-header">
        <span className="card-title" data-testid="card-title">{card.title}</span>
        {KIND_LABELS[card.kind] && <span className="card-kind">{KIND_LABELS[card.kind]}</span>}
      </span>
      <span className="card-namespace">{card.namespace ?? card.subtitle ?? ''}</span>
      {shown.map((port) => (
        <span className="card-port" key={`${port.port}/${port.protocol}`} data-testid="card-port" title={port === endpointsPort ? endpoints : undefined}>
          {[String(port.port), port.protocol, port.l7].filter(Boolean).join(' · ')}
          {port === endpointsPort && <span className="card-endpoints" data-testid="card-endpoints"> {endpoints}</span>}
        </span>
      ))}
      {hidden > 0 && <span className="card-port more">+{hidden} more ports</span>}
    </button>
  );
});
