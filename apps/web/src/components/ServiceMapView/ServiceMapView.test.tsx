// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Selection } from '../../domain/selection.ts';
import { linkCurves } from '../../layout/linkGeometry.ts';
import { EMPTY_LAYOUT, layoutMap } from '../../layout/mapLayout.ts';
import { card, link } from '../../testing/mapFixtures.ts';
import { stubLayoutAndCanvas } from '../../testing/domStubs.ts';
import { LINK_PALETTES } from '../../theme.ts';
import { inWindow, viewWindow } from './cardWindow.ts';
import { FAR_ZOOM, ServiceMapView, WINDOWED_CARDS_ABOVE } from './index.tsx';

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
  const islands = layout.islandOrder.map((key) => layout.islands.get(key)!);
  const curves = linkCurves(layout, cards, links.values());
  const handlers = { onSelectCard: vi.fn(), onSelectLink: vi.fn(), onClearSelection: vi.fn() };
  const element = (current: typeof handlers, shown: Selection) => (
    <ServiceMapView cards={cards} links={links} boxes={layout.cards} islands={islands} curves={curves} selection={shown} palette={LINK_PALETTES.light} fitKey="default" {...current} />
  );
  const { rerender } = render(element(handlers, selection));
  /** Renders again as the app does on a stream batch: same map, new handler functions and selection object. */
  const renderAgain = (next: typeof handlers) => rerender(element(next, { ...selection }));
  return { ...handlers, renderAgain };
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

  it('keeps every link in the off-screen link list, reachable by Tab, with one delegated click handler', () => {
    const { onSelectLink } = renderMap({ kind: 'link', id: snapshot.links[1]!.id });
    const list = screen.getByRole('list', { name: 'Links' });
    expect(list.className).toBe('link-list');
    const buttons = within(list).getAllByRole('button');
    expect(buttons.map((button) => button.textContent)).toEqual(['link pod-to-a → echo-a:8080/TCP', 'link pod-to-b → echo-b:8080/TCP']);
    expect(buttons.every((button) => button.tabIndex === 0)).toBe(true);
    expect(buttons.map((button) => button.getAttribute('aria-pressed'))).toEqual(['false', 'true']);
    buttons[1]!.focus();
    fireEvent.click(document.activeElement!);
    expect(onSelectLink).toHaveBeenCalledWith(snapshot.links[1]!.id);
    fireEvent.click(list);
    expect(onSelectLink).toHaveBeenCalledTimes(1);
  });

  it('calls the latest handlers after the app renders again with new ones', () => {
    const { renderAgain } = renderMap();
    const next = { onSelectCard: vi.fn(), onSelectLink: vi.fn(), onClearSelection: vi.fn() };
    renderAgain(next);
    fireEvent.click(screen.getByRole('button', { name: 'card echo-a in default' }));
    fireEvent.click(screen.getByRole('button', { name: 'link pod-to-a → echo-a:8080/TCP' }));
    expect(next.onSelectCard).toHaveBeenCalledWith('default/echo-a');
    expect(next.onSelectLink).toHaveBeenCalledWith(snapshot.links[0]!.id);
  });

  it('does not redraw the links when the app renders again with the same map and selection', () => {
    const { renderAgain } = renderMap();
    // Every draw starts with getContext (stubbed in jsdom).
    const getContext = vi.mocked(HTMLCanvasElement.prototype.getContext);
    const drawsBefore = getContext.mock.calls.length;
    renderAgain({ onSelectCard: vi.fn(), onSelectLink: vi.fn(), onClearSelection: vi.fn() });
    expect(getContext.mock.calls.length).toBe(drawsBefore);
  });

  it('marks the card layer far (cards as boxes) only while zoomed out past FAR_ZOOM', () => {
    renderMap();
    const world = screen.getByTestId('service-map').querySelector('.map-world')!;
    const zoomOut = screen.getByRole('button', { name: 'Zoom out' });
    for (let i = 0; i < 20 && !world.classList.contains('far'); i++) fireEvent.click(zoomOut);
    expect(world.classList.contains('far')).toBe(true);
    expect(scaleOf(world)).toBeLessThan(FAR_ZOOM);
    const zoomIn = screen.getByRole('button', { name: 'Zoom in' });
    for (let i = 0; i < 20 && world.classList.contains('far'); i++) fireEvent.click(zoomIn);
    expect(world.classList.contains('far')).toBe(false);
    expect(scaleOf(world)).toBeGreaterThanOrEqual(FAR_ZOOM);
  });

  it('is not aria-busy once the drawing for a zoom is on the canvas', () => {
    renderMap();
    const map = screen.getByTestId('service-map');
    fireEvent.click(screen.getByRole('button', { name: 'Zoom out' }));
    // Without a worker (jsdom) the canvas is drawn in the zoom's own task.
    expect(map.getAttribute('aria-busy')).toBe('false');
  });

  it('hides the HTML cards while zoomed out past FAR_ZOOM, and selects a card clicked on its canvas box', () => {
    const { onSelectCard, onClearSelection } = renderMap();
    const map = screen.getByTestId('service-map');
    const world = map.querySelector<HTMLElement>('.map-world')!;
    const cardLayer = map.querySelector<HTMLElement>('.map-cards')!;
    const zoomOut = screen.getByRole('button', { name: 'Zoom out' });
    for (let i = 0; i < 20 && !world.classList.contains('far'); i++) fireEvent.click(zoomOut);
    expect(cardLayer.style.contentVisibility).toBe('hidden');

    const layout = layoutMap(EMPTY_LAYOUT, snapshot.cards, snapshot.links);
    const box = layout.cards.get('default/echo-a')!;
    const { k, x, y } = transformOf(world);
    const viewport = map.querySelector('.map-viewport')!;
    fireEvent.click(viewport, { clientX: x + (box.x + box.width / 2) * k, clientY: y + (box.y + box.height / 2) * k });
    expect(onSelectCard).toHaveBeenCalledWith('default/echo-a');
    fireEvent.click(viewport, { clientX: 1, clientY: 1 });
    expect(onClearSelection).toHaveBeenCalledTimes(1);

    const zoomIn = screen.getByRole('button', { name: 'Zoom in' });
    for (let i = 0; i < 20 && world.classList.contains('far'); i++) fireEvent.click(zoomIn);
    expect(cardLayer.style.contentVisibility).toBe('');
  });
});

describe('ServiceMapView on a map of more than WINDOWED_CARDS_ABOVE cards', () => {
  const count = WINDOWED_CARDS_ABOVE + 100;
  const cards = Array.from({ length: count }, (_, i) => card(`ns-${Math.floor(i / 100)}/svc-${String(i).padStart(3, '0')}`));
  const layout = layoutMap(EMPTY_LAYOUT, cards, []);

  function renderLargeMap() {
    const onSelectCard = vi.fn();
    render(
      <ServiceMapView
        cards={new Map(cards.map((c) => [c.id, c]))}
        links={new Map()}
        boxes={layout.cards}
        islands={layout.islandOrder.map((key) => layout.islands.get(key)!)}
        curves={[]}
        selection={{ kind: 'none' }}
        palette={LINK_PALETTES.light}
        fitKey="all"
        onSelectCard={onSelectCard}
        onSelectLink={vi.fn()}
        onClearSelection={vi.fn()}
      />,
    );
    const world = screen.getByTestId('service-map').querySelector<HTMLElement>('.map-world')!;
    const zoomIn = screen.getByRole('button', { name: 'Zoom in' });
    for (let i = 0; i < 40 && scaleOf(world) < 1; i++) fireEvent.click(zoomIn);
    return { onSelectCard, world };
  }

  const htmlCardIds = () => screen.queryAllByTestId('card').map((element) => element.dataset.cardId!);

  it('holds as HTML only the cards in and near the view', () => {
    const { world } = renderLargeMap();
    const near = viewWindow(transformOf(world), { width: 1000, height: 600 }, 0.5);
    const shown = htmlCardIds();
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(count / 2);
    expect(shown.every((id) => inWindow(layout.cards.get(id)!, near))).toBe(true);
    expect(screen.getByTestId('service-map').getAttribute('aria-busy')).toBe('false');
  });

  it('leaves the namespace islands to the canvas', () => {
    renderLargeMap();
    expect(screen.queryAllByTestId('island')).toHaveLength(0);
  });

  it('lists every card in an off-screen Cards list, whose buttons select a card and centre the view on it', () => {
    const { onSelectCard, world } = renderLargeMap();
    const list = screen.getByRole('list', { name: 'Cards' });
    expect(list.className).toBe('card-list');
    const buttons = within(list).getAllByRole('button');
    expect(buttons).toHaveLength(count);
    const last = cards.at(-1)!;
    expect(htmlCardIds()).not.toContain(last.id);
    fireEvent.click(within(list).getByRole('button', { name: `card ${last.title} in ${last.namespace}` }));
    expect(onSelectCard).toHaveBeenCalledWith(last.id);
    const box = layout.cards.get(last.id)!;
    const { k, x, y } = transformOf(world);
    expect(x + (box.x + box.width / 2) * k).toBeCloseTo(500);
    expect(y + (box.y + box.height / 2) * k).toBeCloseTo(300);
    expect(htmlCardIds()).toContain(last.id);
  });

  it('keeps a focused card while the view moves away from it', () => {
    const { world } = renderLargeMap();
    const first = screen.getAllByTestId('card')[0]!;
    const id = first.dataset.cardId!;
    first.focus();
    const last = cards.at(-1)!;
    // A programmatic move (as the list makes) while the card keeps focus: a click in jsdom does not move focus.
    fireEvent.click(within(screen.getByRole('list', { name: 'Cards' })).getByRole('button', { name: `card ${last.title} in ${last.namespace}` }));
    expect(inWindow(layout.cards.get(id)!, viewWindow(transformOf(world), { width: 1000, height: 600 }, 0.5))).toBe(false);
    expect(document.activeElement).toBe(first);
    expect(htmlCardIds()).toContain(id);
  });
});

describe('ServiceMapView on a small map', () => {
  it('holds every card as HTML and has no Cards list', () => {
    renderMap();
    expect(screen.getAllByTestId('card')).toHaveLength(snapshot.cards.length);
    expect(screen.queryByRole('list', { name: 'Cards' })).toBeNull();
  });
});

/** The map transform the world element carries. */
function transformOf(world: HTMLElement): { k: number; x: number; y: number } {
  const [, x, y, k] = /translate\(([-\d.e]+)px, ([-\d.e]+)px\) scale\(([-\d.e]+)\)/.exec(world.style.transform)!.map(Number);
  return { k: k!, x: x!, y: y! };
}

function scaleOf(element: Element): number {
  return Number(/scale\(([^)]+)\)/.exec((element as HTMLElement).style.transform)?.[1]);
}
