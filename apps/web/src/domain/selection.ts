import type { Flow } from '@tycho/flow';
import { flowEnds, type Card, type Link } from '@tycho/servicemap';

/** What the user picked on the map: a card, a link, or nothing. */
export type Selection = { kind: 'card'; id: string } | { kind: 'link'; id: string } | { kind: 'none' };

export function selectionOf(card: string | undefined, link: string | undefined): Selection {
  if (card) return { kind: 'card', id: card };
  if (link) return { kind: 'link', id: link };
  return { kind: 'none' };
}

/** Whether a flow belongs in the table for the selection: a card's flows either way, a link's flows in both directions. */
export function flowMatchesSelection(flow: Flow, selection: Selection): boolean {
  if (selection.kind === 'none') return true;
  const ends = flowEnds(flow);
  if (!ends) return false;
  if (selection.kind === 'link') return ends.linkId === selection.id;
  return ends.client.card.id === selection.id || ends.server.card.id === selection.id;
}

export type LinkVerdictClass = 'forwarded' | 'dropped' | 'mixed';

/** Forwarded when nothing was dropped, dropped when nothing else happened, mixed otherwise. */
export function linkVerdictClass(link: Link): LinkVerdictClass {
  const dropped = link.verdicts.DROPPED ?? 0;
  if (dropped === 0) return 'forwarded';
  return dropped === link.flows || link.flows === 0 ? 'dropped' : 'mixed';
}

/** `card echo-a in default`, the card's accessible name. */
export function cardLabel(card: Card): string {
  return `card ${card.title}${card.namespace ? ` in ${card.namespace}` : ''}`;
}

/** `link pod-to-a → echo-a:8080/TCP`, the link's accessible name. */
export function linkLabel(link: Link, cards: ReadonlyMap<string, Card>): string {
  const source = cards.get(link.source)?.title ?? link.source;
  const destination = cards.get(link.destination)?.title ?? link.destination;
  const port = link.protocol === 'TCP' || link.protocol === 'UDP' ? `:${link.port}/${link.protocol}` : ` ${link.protocol}`;
  return `link ${source} → ${destination}${port}`;
}

export interface Peer {
  link: Link;
  peer: Card | undefined;
  peerId: string;
}

/** A card's inbound and outbound links with the card at the other end, busiest first. */
export function peersOf(cardId: string, links: Iterable<Link>, cards: ReadonlyMap<string, Card>): { inbound: Peer[]; outbound: Peer[] } {
  const inbound: Peer[] = [];
  const outbound: Peer[] = [];
  for (const link of links) {
    if (link.destination === cardId) inbound.push({ link, peer: cards.get(link.source), peerId: link.source });
    if (link.source === cardId) outbound.push({ link, peer: cards.get(link.destination), peerId: link.destination });
  }
  const busiest = (a: Peer, b: Peer) => b.link.flows - a.link.flows || a.link.id.localeCompare(b.link.id);
  return { inbound: inbound.sort(busiest), outbound: outbound.sort(busiest) };
}
