// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Selection } from '../../domain/selection.ts';
import { linkCurves } from '../../layout/linkGeometry.ts';
import { EMPTY_LAYOUT, layoutMap } from '../../layout/mapLayout.ts';
import { card, link } from '../../testing/mapFixtures.ts';
import { stubLayoutAndCanvas } from '../../testing/domStubs.ts';
import { LINK_PALETTES } from '../../theme.ts';
import { ServiceMapView } from './index.tsx';

const snapshot = {
  cards: [
    card('default/pod-to-a'),
    card('default/echo-a', { ports: [{ port: 8080, protocol: 'TCP', l7: 'http' }] }),
    card('default/pod-to-b'),
    card('default/echo-b', { ports: [{ port: 8080, protocol: 'TCP' }] }),
  ],
  links: [link('default/pod-to-a', 'default/echo-a'), link('default/pod-to-b', 'default/echo-b', 8080, { verdicts: { DROPPED: 10 } })],
};

function renderMap(selection: Selection = { kind: 'none' }) {
  const cards = new Map(snapshot.cards.map((c) => [c.id, c]));
  const links = new Map(snapshot.links.map((l) => [l.id, l]));
  const layout = layoutMap(EMPTY_LAYOUT, snapshot.cards, snapshot.links);
  const handlers = { onSelectCard: vi.fn(), onSelectLink: vi.fn(), onClearSelection: vi.fn() };
  render(
    <ServiceMapView
      cards={cards}
      links={links}
      boxes={layout.cards}
      islands={layout.islandOrder.map((key) => layout.islands.get(key)!)}
      curves={linkCurves(layout, cards, links.values())}
      selection={selection}
      palette={LINK_PALETTES.light}
      fitKey="default"
      {...handlers}
    />,
  );
  return handlers;
}

beforeEach(stubLayoutAndCanvas);
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe('ServiceMapView', () => {
  it('draws a card per workload with its title, namespace and ports', () => {
    renderMap();
    expect(screen.getAllByTestId('card-title').map((title) => title.textContent).sort()).toEqual(['echo-a', 'echo-b', 'pod-to-a', 'pod-to-b']);
    const echoA = screen.getByRole('button', { name: 'card echo-a in default' });
    expect(within(echoA).getByTestId('card-port').textContent).toBe('8080 · TCP · http');
    expect(within(echoA).getByText('default')).toBeTruthy();
  });

  it('lists every link by name with its verdict', () => {
    renderMap();
    expect(screen.getByRole('button', { name: 'link pod-to-a → echo-a:8080/TCP' }).dataset.verdict).toBe('forwarded');
    expect(screen.getByRole('button', { name: 'link pod-to-b → echo-b:8080/TCP' }).dataset.verdict).toBe('dropped');
  });

  it('draws the namespace as an island', () => {
    renderMap();
    expect(screen.getAllByTestId('island').map((island) => island.dataset.namespace)).toEqual(['default']);
  });

  it('selects a card on click (cards are buttons: Enter and Space do the same)', () => {
    const { onSelectCard } = renderMap();
    const echoA = screen.getByRole('button', { name: 'card echo-a in default' });
    fireEvent.click(echoA);
    expect(onSelectCard).toHaveBeenCalledWith('default/echo-a');
  });

  it('selects a link from the link list', () => {
    const { onSelectLink } = renderMap();
    fireEvent.click(screen.getByRole('button', { name: 'link pod-to-a → echo-a:8080/TCP' }));
    expect(onSelectLink).toHaveBeenCalledWith(snapshot.links[0]!.id);
  });

  it('dims the cards a selected card does not talk to', () => {
    renderMap({ kind: 'card', id: 'default/echo-a' });
    expect(screen.getByRole('button', { name: 'card echo-a in default' }).className).toContain('selected');
    expect(screen.getByRole('button', { name: 'card pod-to-a in default' }).className).not.toContain('dimmed');
    expect(screen.getByRole('button', { name: 'card echo-b in default' }).className).toContain('dimmed');
  });
});
