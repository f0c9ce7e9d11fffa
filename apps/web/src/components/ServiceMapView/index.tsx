import { select } from 'd3-selection';
import { zoom, zoomIdentity, type D3ZoomEvent, type ZoomBehavior, type ZoomTransform } from 'd3-zoom';
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type FocusEvent, type MouseEvent } from 'react';
import type { Card, Link } from '@tycho/servicemap';
import { cardLabel, linkLabel, linkVerdictClass, type Selection } from '../../domain/selection.ts';
import { hitTestLink, type LinkCurve } from '../../layout/linkGeometry.ts';
import { fitTransform, layoutBounds, type CardBox, type IslandBox } from '../../layout/mapLayout.ts';
import { mapViewport } from '../../state/useMapLayout.ts';
import type { LinkPalette } from '../../theme.ts';
import { MapCard } from '../MapCard/index.tsx';
import { inWindow, viewWindow, windowServes, type CardWindow } from './cardWindow.ts';
import { packScene, type CanvasArea, type CardColours, type ViewTransform } from './mapCanvas.ts';
import { createMapPainter, type MapPainter, type Painted } from './mapPainter.ts';

/**
 * The service map. Rendering choice, for 2,000 cards and 10,000 links within
 * a 20 ms frame: links are stroked on one <canvas>, batched by style into a
 * handful of paths and culled to the viewport (plus a margin); cards are HTML
 * buttons (focusable, readable, testable) in one layer that pan and zoom move
 * with a single CSS transform. Links also exist as a visually hidden list of
 * buttons, so keyboards, screen readers and tests can reach them.
 *
 * A zoom frame touches no React state. It sets the card layer's transform
 * and moves the last canvas drawing with a CSS transform relative to the
 * transform it was drawn for; the compositor applies both without
 * rastering anything. Drawings are made off the main thread (mapPainter.ts:
 * a worker draws on an OffscreenCanvas, the page swaps the finished bitmap
 * in and re-places it in one task), so no frame waits for one. A gesture
 * asks for a new drawing when the moved one no longer covers the viewport or
 * is scaled past STALE_SCALE, and when it ends (d3-zoom's `end`: the mouse
 * button is released, or 150 ms after the last wheel step); a small drawing
 * (the small map, a close-up) is redrawn for every frame; a programmatic zoom
 * (fit, the buttons) at once.
 *
 * HTML cards are under `content-visibility: auto`: the browser lays out and
 * paints only those near the viewport. Zoomed out past FAR_ZOOM the card
 * layer is `content-visibility: hidden` (kept in the DOM with its layout, but
 * neither rendered nor reachable by Tab until the map is zoomed in again:
 * the zoom and fit buttons and the link list stay reachable), and the cards
 * the user sees are the canvas's boxes with titles, at a legible size while
 * there is room; a click there is hit-tested against the boxes. The canvas
 * draws the cards at every zoom, under the HTML cards when those are shown,
 * so the HTML layer can be hidden in the middle of a gesture with nothing
 * missing: on a map too large to redraw every frame, a gesture that zooms
 * out hides it at its first step (each step out would otherwise lay out and
 * paint the cards coming into view); one that zooms in past FAR_ZOOM leaves
 * it hidden; either shows it again when the gesture ends, after a wheel
 * gesture only when no step came for REVEAL_AFTER_WHEEL_MS. A pan keeps the
 * HTML cards (hiding and showing them costs more than the cards entering at
 * the edges). The canvas cards carry the HTML cards' title, namespace and
 * port rows while they are wide enough to read them.
 *
 * A map of more than WINDOWED_CARDS_ABOVE cards holds as HTML only the
 * cards in its card window (cardWindow.ts): the viewport and CARD_WINDOW_MARGIN
 * of it beyond each edge, moved when a gesture ends (or a programmatic zoom,
 * or a resize) if it no longer covers the view, and empty until the map is
 * first shown closer than FAR_ZOOM. The selected card and the focused card
 * are held wherever they are. So that keyboards and screen readers still
 * reach every card, such a map also lists every card in a visually hidden
 * `Cards` list, as it does the links; choosing a card there selects it and
 * centres the view on it. Its namespace islands are drawn on the canvas, not
 * as HTML (see mapCanvas.ts).
 *
 * Re-renders of the app (stream batches, status) reach the cards and the
 * link list only when their own inputs change: the handlers passed down are
 * stable and the selection is compared by value. The link list is kept whole
 * (every link stays in the accessibility tree and the tab order) but sits
 * off-screen under `content-visibility: auto`, so the browser styles and lays
 * it out only when focus enters it.
 */
export interface ServiceMapViewProps {
  cards: ReadonlyMap<string, Card>;
  links: ReadonlyMap<string, Link>;
  boxes: ReadonlyMap<string, CardBox>;
  islands: readonly IslandBox[];
  curves: readonly LinkCurve[];
  selection: Selection;
  palette: LinkPalette;
  /** Changes when the view should fit itself again (a new namespace). */
  fitKey: string;
  onSelectCard: (id: string) => void;
  onSelectLink: (id: string) => void;
  onClearSelection: () => void;
}

const MIN_ZOOM = 0.02;
const MAX_ZOOM = 4;
/** Below this scale HTML card text is under 7 px: the canvas draws the cards instead. */
export const FAR_ZOOM = 0.5;
/** A drawing of at most this many links and cards is redrawn on every zoom frame; a larger one is moved, and redrawn when stale and when the gesture ends. */
const LIVE_REDRAW_ITEMS = 300;
/** After a wheel gesture ends, the HTML cards come back only when no further wheel step came for this long. */
const REVEAL_AFTER_WHEEL_MS = 300;
/** The canvas reaches this fraction of the viewport beyond each edge, so a pan shows drawn links before the redraw. */
const CANVAS_MARGIN = 0.25;
/** A map of more cards than this holds as HTML only the cards in and near the view (see cardWindow.ts). */
export const WINDOWED_CARDS_ABOVE = 300;
/** The card window reaches this fraction of the viewport beyond each edge. */
const CARD_WINDOW_MARGIN = 0.25;
/** A card window made for a scale more than this far from the view's (either way) is made again. */
const WINDOW_STALE_SCALE = 1.5;

export function ServiceMapView(props: ServiceMapViewProps) {
  const { cards, links, boxes, islands, curves, selection, palette, fitKey } = props;
  const mapElement = useRef<HTMLDivElement>(null);
  const viewport = useRef<HTMLDivElement>(null);
  const world = useRef<HTMLDivElement>(null);
  const cardLayer = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const area = useRef<CanvasArea>({ width: 1, height: 1, marginX: 0, marginY: 0, ratio: 1 });
  const transform = useRef<ZoomTransform>(zoomIdentity);
  /** What the canvas bitmap holds: drawn for `transform`, with or without the cards, `items` links and cards. */
  const drawn = useRef<Painted | undefined>(undefined);
  const painter = useRef<MapPainter | undefined>(undefined);
  const behaviour = useRef<ZoomBehavior<HTMLDivElement, unknown> | undefined>(undefined);
  const frame = useRef<number | undefined>(undefined);
  const gestureMoved = useRef(false);
  /** The type of the last input event of a gesture (wheel, mousemove, touchmove). */
  const lastGestureEvent = useRef<string | undefined>(undefined);
  const revealTimer = useRef<number | undefined>(undefined);
  /** The theme's card colours, read from styles.css once per palette (a theme change brings a new palette). */
  const colours = useRef<{ palette: LinkPalette; colours: CardColours } | undefined>(undefined);
  /** The view and the map's extent (its islands' bounds) the last fit was for. */
  const fittedFor = useRef<{ view: string; extent: string } | undefined>(undefined);
  const userMoved = useRef(false);
  /** The card window the HTML layer holds (null: none yet), the one asked for and not yet committed, and the focused card. */
  const [cardWindow, setCardWindow] = useState<CardWindow | null>(null);
  const shownWindow = useRef<CardWindow | null>(null);
  const wantedWindow = useRef<CardWindow | undefined>(undefined);
  const [focusedCard, setFocusedCard] = useState<string | undefined>(undefined);

  // The app makes a new selection object on every render: compare it by value.
  const selectedKind = selection.kind;
  const selectedId = selection.kind === 'none' ? undefined : selection.id;
  const stableSelection = useMemo<Selection>(() => (selectedId === undefined ? { kind: 'none' } : { kind: selectedKind as 'card' | 'link', id: selectedId }), [selectedKind, selectedId]);
  const related = useMemo(() => relatedTo(stableSelection, links), [stableSelection, links]);
  const windowed = boxes.size > WINDOWED_CARDS_ABOVE;
  // A windowed map's islands are drawn on the canvas, not as HTML (see mapCanvas.ts).
  const canvasIslands = windowed ? islands : NO_ISLANDS;
  const drawState = useRef({ curves, links, cards, boxes, islands: canvasIslands, related, selection: stableSelection, palette });
  drawState.current = { curves, links, cards, boxes, islands: canvasIslands, related, selection: stableSelection, palette };
  /** The inputs of the scene the painter holds, to send a scene only when it changed. */
  const sentScene = useRef<typeof drawState.current | undefined>(undefined);
  function sendScene(): void {
    const next = drawState.current;
    const last = sentScene.current;
    if (!painter.current || (last && (Object.keys(next) as (keyof typeof next)[]).every((key) => last[key] === next[key]))) return;
    sentScene.current = next;
    painter.current.setScene(packScene(next));
  }
  // A new view's first drawing, at the fit the layout effect will apply, is asked for while React is still
  // rendering the view: the worker draws it during the render and commit of the cards instead of after them.
  if (painter.current && boxes.size > 0 && fittedFor.current?.view !== fitKey && sentScene.current?.curves !== curves) {
    const size = mapViewport.size();
    const bounds = layoutBounds(islands);
    if (size && bounds) {
      sendScene();
      const { k, x, y } = fitTransform(bounds, size);
      painter.current.paint({ transform: { k, x, y }, area: area.current, cards: themeColours(), far: k < FAR_ZOOM });
    }
  }
  // Handlers from the app change identity on every render; the children get stable ones.
  const handlers = useRef(props);
  handlers.current = props;
  const selectCard = useCallback((id: string) => handlers.current.onSelectCard(id), []);
  const selectLink = useCallback((id: string) => handlers.current.onSelectLink(id), []);
  /** A card chosen from the Cards list: selected, and the view centred on it at the same scale. */
  const chooseCard = useCallback((id: string) => {
    handlers.current.onSelectCard(id);
    const box = drawState.current.boxes.get(id);
    if (box && viewport.current && behaviour.current) select(viewport.current).call(behaviour.current.translateTo, box.x + box.width / 2, box.y + box.height / 2);
  }, []);

  /**
   * `aria-busy` on the map while it catches up with the view: a gesture under
   * way, a drawing asked for or being made, the drawing on the canvas made
   * for another transform, the HTML cards still to be shown again, or a
   * card window asked for and not yet committed.
   */
  function markBusy(): void {
    const element = mapElement.current;
    if (!element) return;
    const last = drawn.current?.transform;
    const { k, x, y } = transform.current;
    const busy = gestureMoved.current || frame.current !== undefined || (painter.current?.busy() ?? false) || revealTimer.current !== undefined || wantedWindow.current !== undefined || (last !== undefined && (last.k !== k || last.x !== x || last.y !== y));
    if (element.getAttribute('aria-busy') !== String(busy)) element.setAttribute('aria-busy', String(busy));
  }

  function isFar(): boolean {
    return world.current?.classList.contains('far') ?? false;
  }

  /** Shows the cards as HTML (near) or leaves them to the canvas (far). */
  function setFar(far: boolean): void {
    const layer = world.current;
    if (!layer || layer.classList.contains('far') === far) return;
    layer.classList.toggle('far', far);
    if (cardLayer.current) cardLayer.current.style.contentVisibility = far ? 'hidden' : '';
    if (!far) updateCardWindow();
  }

  /**
   * Moves the card window to the view if the one the layer holds (or is
   * about to) no longer serves it. Nothing while far: the layer is hidden,
   * and its window moves when the cards are shown again.
   */
  function updateCardWindow(): void {
    const element = viewport.current;
    if (!element || isFar() || drawState.current.boxes.size <= WINDOWED_CARDS_ABOVE) return;
    const size = { width: element.clientWidth, height: element.clientHeight };
    if (size.width === 0 || size.height === 0) return;
    const current = wantedWindow.current ?? shownWindow.current;
    if (current && windowServes(current, transform.current, size, WINDOW_STALE_SCALE)) return;
    const next = viewWindow(transform.current, size, CARD_WINDOW_MARGIN);
    wantedWindow.current = next;
    setCardWindow(next);
    markBusy();
  }

  /** Asks the painter for a drawing at the current transform, cards included (see drawScene). */
  function paint(): void {
    frame.current = undefined;
    const { k, x, y } = transform.current;
    painter.current?.paint({ transform: { k, x, y }, area: area.current, cards: themeColours(), far: isFar() || k < FAR_ZOOM });
    markBusy();
  }

  /** A drawing is on the canvas: place it, and hide the HTML cards if it is the far one they wait for. */
  function onPainted(painted: Painted): void {
    drawn.current = painted;
    const element = canvas.current;
    if (element) {
      element.dataset.paintedLinks = String(painted.sceneLinks);
      element.dataset.paintedCards = String(painted.cards ? painted.sceneCards : 0);
    }
    if (painted.far && transform.current.k < FAR_ZOOM) setFar(true);
    moveDrawing();
    markBusy();
  }

  function themeColours(): CardColours | undefined {
    const { palette: current } = drawState.current;
    if (colours.current?.palette !== current && viewport.current) colours.current = { palette: current, colours: cardColours(viewport.current) };
    return colours.current?.colours;
  }

  function paintNow(): void {
    if (frame.current !== undefined) cancelAnimationFrame(frame.current);
    paint();
  }

  function schedulePaint(): void {
    if (frame.current === undefined) frame.current = requestAnimationFrame(paint);
    markBusy();
  }

  /** Moves the last drawing to where `transform` puts it: the canvas element scaled and shifted, no raster. */
  function moveDrawing(): void {
    const element = canvas.current;
    const last = drawn.current?.transform;
    if (!element || !last) return;
    const { k, x, y } = transform.current;
    const scale = k / last.k;
    const { marginX, marginY } = area.current;
    element.style.transform = scale === 1 && x === last.x && y === last.y ? '' : `translate(${x - scale * last.x + marginX * (1 - scale)}px, ${y - scale * last.y + marginY * (1 - scale)}px) scale(${scale})`;
  }

  /**
   * The end of a gesture (d3-zoom: the mouse button released, or 150 ms
   * after the last wheel step): a full drawing, and the HTML cards shown
   * again if the scale reached is above FAR_ZOOM; after a wheel gesture only
   * when no further step came for REVEAL_AFTER_WHEEL_MS (wheel steps can come
   * further apart than d3-zoom's 150 ms, and showing the cards costs a frame
   * of style and layout).
   */
  function onZoomEnd(): void {
    // Every zoom ends here, programmatic ones (fit, the buttons, a card chosen from the list) at once.
    updateCardWindow();
    if (!gestureMoved.current) return;
    gestureMoved.current = false;
    schedulePaint();
    if (transform.current.k < FAR_ZOOM || !isFar()) return;
    const reveal = () => {
      revealTimer.current = undefined;
      setFar(false);
      schedulePaint();
    };
    if (lastGestureEvent.current === 'wheel') revealTimer.current = window.setTimeout(reveal, REVEAL_AFTER_WHEEL_MS);
    else reveal();
    markBusy();
  }

  function onZoom(event: D3ZoomEvent<HTMLDivElement, unknown>): void {
    const previousK = transform.current.k;
    transform.current = event.transform;
    if (revealTimer.current !== undefined) {
      clearTimeout(revealTimer.current);
      revealTimer.current = undefined;
    }
    const layer = world.current;
    if (layer) layer.style.transform = `translate(${event.transform.x}px, ${event.transform.y}px) scale(${event.transform.k})`;
    moveDrawing();
    const far = event.transform.k < FAR_ZOOM;
    const source = event.sourceEvent as Event | null | undefined;
    if (!source) {
      // A programmatic zoom (fit, the buttons) changes the view in one step: cards and drawing follow at once.
      setFar(far);
      paintNow();
      return;
    }
    userMoved.current = true;
    lastGestureEvent.current = source.type;
    if ((drawn.current?.items ?? 0) <= LIVE_REDRAW_ITEMS) {
      if (!far) setFar(false);
      schedulePaint();
      return;
    }
    gestureMoved.current = true;
    // Zooming out brings cards into view, each to be laid out and painted as HTML: the canvas's cards take over at once.
    if (!isFar() && (far || event.transform.k < previousK) && drawn.current?.cards) setFar(true);
    const wanted = stale(drawn.current?.transform, event.transform, area.current) || (isFar() && !drawn.current?.far) || !drawn.current?.cards;
    if (wanted && !painter.current?.busy()) schedulePaint();
    markBusy();
  }

  function fit(): void {
    const element = viewport.current;
    const bounds = layoutBounds(islands);
    if (!element || !bounds || !behaviour.current) return;
    const { k, x, y } = fitTransform(bounds, { width: element.clientWidth || 800, height: element.clientHeight || 600 });
    select(element).call(behaviour.current.transform, zoomIdentity.translate(x, y).scale(k));
  }

  // Layout effects: the zoom behaviour exists, and the first fit is applied, before the first paint.
  useLayoutEffect(() => {
    const element = viewport.current;
    if (!element) return;
    const zoomBehaviour = zoom<HTMLDivElement, unknown>()
      .scaleExtent([MIN_ZOOM, MAX_ZOOM])
      .filter((event: Event) => !(event.target instanceof Element && event.target.closest('button')) || event.type === 'wheel')
      .on('zoom', onZoom)
      .on('end', onZoomEnd);
    behaviour.current = zoomBehaviour;
    select(element).call(zoomBehaviour).on('dblclick.zoom', null);
    if (canvas.current) painter.current = createMapPainter(canvas.current, onPainted);
    const resize = new ResizeObserverOrNoop(() => {
      area.current = sizeCanvas(canvas.current, element);
      mapViewport.report(element.clientWidth, element.clientHeight);
      paintNow();
      updateCardWindow();
    });
    resize.observe(element);
    area.current = sizeCanvas(canvas.current, element);
    mapViewport.report(element.clientWidth, element.clientHeight);
    return () => {
      resize.disconnect();
      select(element).on('.zoom', null);
      if (frame.current !== undefined) cancelAnimationFrame(frame.current);
      if (revealTimer.current !== undefined) clearTimeout(revealTimer.current);
      painter.current?.dispose();
      painter.current = undefined;
    };
    // The zoom behaviour is made once; it reads the latest state through refs.
  }, []);

  // Fit when the view changes, and again as islands appear or grow until the user pans or zooms.
  useLayoutEffect(() => {
    if (boxes.size === 0) return;
    sendScene();
    const last = fittedFor.current;
    const newView = last?.view !== fitKey;
    if (newView) userMoved.current = false;
    const bounds = layoutBounds(islands);
    const extent = bounds ? `${bounds.minX},${bounds.minY},${bounds.maxX},${bounds.maxY}` : '';
    if (newView || (!userMoved.current && last?.extent !== extent)) {
      fittedFor.current = { view: fitKey, extent };
      fit();
    }
    // New data is sent to the painter in the same commit; only zoom frames wait for requestAnimationFrame.
    paintNow();
    // A map that has just grown past WINDOWED_CARDS_ABOVE, with no zoom since, needs its first window.
    updateCardWindow();
    // Only what the drawing depends on: an app re-render with the same map redraws nothing.
  }, [fitKey, boxes, islands, curves, links, related, stableSelection, palette]);

  useLayoutEffect(() => {
    shownWindow.current = cardWindow;
    if (wantedWindow.current === cardWindow) wantedWindow.current = undefined;
    markBusy();
  }, [cardWindow]);

  // The theme's variables change in the app's effect, after this commit drew: read them again for the next frame.
  useEffect(() => {
    colours.current = undefined;
    if (isFar()) schedulePaint();
  }, [palette]);

  function onBackgroundClick(event: MouseEvent<HTMLDivElement>): void {
    if (event.target instanceof Element && event.target.closest('button')) return;
    const element = viewport.current;
    if (!element) return;
    const rect = element.getBoundingClientRect();
    const [x, y] = transform.current.invert([event.clientX - rect.left, event.clientY - rect.top]);
    const card = isFar() ? cardAt(boxes, x, y) : undefined;
    const hit = card ? undefined : hitTestLink(curves, x, y, 6 / transform.current.k);
    if (card) props.onSelectCard(card.id);
    else if (hit) props.onSelectLink(hit.id);
    else props.onClearSelection();
  }

  return (
    <div className="map" data-testid="service-map" ref={mapElement}>
      <div className="map-viewport" ref={viewport} onClick={onBackgroundClick}>
        <canvas className="map-links" ref={canvas} aria-hidden="true" style={{ transformOrigin: '0 0', willChange: 'transform' }} />
        <div className="map-world" ref={world}>
          {!windowed &&
            islands.map((island) => (
              <IslandFrame key={island.key} island={island} />
            ))}
          <div className="map-cards" ref={cardLayer} onFocus={windowed ? onCardFocus : undefined} onBlur={windowed ? onCardBlur : undefined}>
            <CardLayer cards={cards} boxes={boxes} shown={windowed ? cardWindow : 'all'} focused={windowed ? focusedCard : undefined} selection={stableSelection} related={related} onSelectCard={selectCard} />
          </div>
        </div>
      </div>
      <div className="map-controls">
        <button type="button" onClick={() => zoomBy(1.25)} aria-label="Zoom in">+</button>
        <button type="button" onClick={() => zoomBy(0.8)} aria-label="Zoom out">−</button>
        <button type="button" onClick={fit} aria-label="Fit map to view" data-testid="map-fit">Fit</button>
      </div>
      {windowed && <CardList cards={cards} boxes={boxes} selection={stableSelection} onChooseCard={chooseCard} />}
      <LinkList links={links} cards={cards} selection={stableSelection} onSelectLink={selectLink} />
    </div>
  );

  function onCardFocus(event: FocusEvent<HTMLDivElement>): void {
    const id = event.target instanceof HTMLElement ? event.target.closest<HTMLElement>('[data-card-id]')?.dataset.cardId : undefined;
    if (id !== undefined) setFocusedCard(id);
  }

  function onCardBlur(): void {
    setFocusedCard(undefined);
  }

  function zoomBy(factor: number): void {
    if (viewport.current && behaviour.current) select(viewport.current).call(behaviour.current.scaleBy, factor);
  }
}

const IslandFrame = memo(function IslandFrame({ island }: { island: IslandBox }) {
  if (!island.cells.some((cell) => cell !== undefined)) return null;
  return (
    <div
      className="island"
      data-testid="island"
      data-namespace={island.namespace ?? ''}
      style={{ left: island.x, top: island.y, width: island.width, height: island.height }}
    >
      <div className="island-title">{island.title}</div>
    </div>
  );
});

const CardLayer = memo(function CardLayer(props: {
  cards: ReadonlyMap<string, Card>;
  boxes: ReadonlyMap<string, CardBox>;
  /** Which cards to hold: all of them, those meeting a card window, or (null) none but the selected and focused ones. */
  shown: CardWindow | null | 'all';
  focused: string | undefined;
  selection: Selection;
  related: { cards: Set<string> } | undefined;
  onSelectCard: (id: string) => void;
}) {
  const { cards, boxes, shown, focused, selection, related } = props;
  const selectedCard = selection.kind === 'card' ? selection.id : undefined;
  return (
    <>
      {[...boxes.values()].map((box) => {
        const card = cards.get(box.id);
        if (!card) return null;
        if (shown !== 'all' && !(shown !== null && inWindow(box, shown)) && box.id !== selectedCard && box.id !== focused) return null;
        return (
          <MapCard
            key={box.id}
            card={card}
            box={box}
            selected={selection.kind === 'card' && selection.id === box.id}
            dimmed={related !== undefined && !related.cards.has(box.id)}
            onSelect={props.onSelectCard}
          />
        );
      })}
    </>
  );
});

/**
 * Every card as a button, on a map whose card layer holds only a window of
 * them: off-screen like the link list, one delegated click handler.
 */
const CardList = memo(function CardList(props: { cards: ReadonlyMap<string, Card>; boxes: ReadonlyMap<string, CardBox>; selection: Selection; onChooseCard: (id: string) => void }) {
  const { onChooseCard } = props;
  const onClick = useCallback(
    (event: MouseEvent<HTMLUListElement>) => {
      const button = event.target instanceof Element ? event.target.closest<HTMLElement>('button[data-list-card-id]') : null;
      const id = button?.dataset.listCardId;
      if (id !== undefined) onChooseCard(id);
    },
    [onChooseCard],
  );
  const selectedCard = props.selection.kind === 'card' ? props.selection.id : undefined;
  return (
    <ul className="card-list" aria-label="Cards" onClick={onClick}>
      {[...props.boxes.values()].map((box) => {
        const card = props.cards.get(box.id);
        if (!card) return null;
        return (
          <li key={box.id}>
            <button type="button" data-list-card-id={box.id} aria-pressed={selectedCard === box.id}>
              {cardLabel(card)}
            </button>
          </li>
        );
      })}
    </ul>
  );
});

/**
 * Every link as a button, for keyboards, screen readers and tests. The list is
 * off-screen (`.link-list`, content-visibility: auto), so it costs no style,
 * layout or paint until focus enters it; one click handler serves all buttons.
 */
const LinkList = memo(function LinkList(props: { links: ReadonlyMap<string, Link>; cards: ReadonlyMap<string, Card>; selection: Selection; onSelectLink: (id: string) => void }) {
  const { onSelectLink } = props;
  const onClick = useCallback(
    (event: MouseEvent<HTMLUListElement>) => {
      const button = event.target instanceof Element ? event.target.closest<HTMLElement>('button[data-link-id]') : null;
      const id = button?.dataset.linkId;
      if (id !== undefined) onSelectLink(id);
    },
    [onSelectLink],
  );
  const selectedLink = props.selection.kind === 'link' ? props.selection.id : undefined;
  return (
    // The list only delegates its buttons' clicks (Enter and Space click a button).
    <ul className="link-list" aria-label="Links" onClick={onClick}>
      {[...props.links.values()].map((link) => (
        <li key={link.id}>
          <button type="button" data-testid="link" data-link-id={link.id} data-verdict={linkVerdictClass(link)} aria-pressed={selectedLink === link.id}>
            {linkLabel(link, props.cards)}
          </button>
        </li>
      ))}
    </ul>
  );
});

/** The card whose box holds a map point, if any. */
function cardAt(boxes: ReadonlyMap<string, CardBox>, x: number, y: number): CardBox | undefined {
  for (const box of boxes.values()) if (x >= box.x && x <= box.x + box.width && y >= box.y && y <= box.y + box.height) return box;
  return undefined;
}

/** Cards and links to keep bright for a selection; undefined when nothing is selected. */
function relatedTo(selection: Selection, links: ReadonlyMap<string, Link>): { cards: Set<string>; links: Set<string> } | undefined {
  if (selection.kind === 'none') return undefined;
  const cards = new Set<string>();
  const linkIds = new Set<string>();
  if (selection.kind === 'link') {
    const link = links.get(selection.id);
    if (link) {
      cards.add(link.source);
      cards.add(link.destination);
      linkIds.add(link.id);
    }
    return { cards, links: linkIds };
  }
  cards.add(selection.id);
  for (const link of links.values()) {
    if (link.source === selection.id || link.destination === selection.id) {
      linkIds.add(link.id);
      cards.add(link.source);
      cards.add(link.destination);
    }
  }
  return { cards, links: linkIds };
}

const NO_ISLANDS: readonly IslandBox[] = [];

/** How far a gesture may scale the moved drawing (either way) before it asks for a new one. */
const STALE_SCALE = 1.5;

/**
 * Whether the drawing made for `drawnFor`, moved to `now`, no longer covers
 * the viewport or is scaled past STALE_SCALE: a gesture then asks for a new
 * drawing (made off the main thread) without waiting for its end.
 */
function stale(drawnFor: ViewTransform | undefined, now: ViewTransform, area: CanvasArea): boolean {
  if (!drawnFor) return true;
  const scale = now.k / drawnFor.k;
  if (scale > STALE_SCALE || scale < 1 / STALE_SCALE) return true;
  // The drawn area's edges on screen, where the move puts them.
  const left = now.x + (-area.marginX - drawnFor.x) * scale;
  const top = now.y + (-area.marginY - drawnFor.y) * scale;
  const right = left + area.width * scale;
  const bottom = top + area.height * scale;
  const viewWidth = area.width - 2 * area.marginX;
  const viewHeight = area.height - 2 * area.marginY;
  return left > 0 || top > 0 || right < viewWidth || bottom < viewHeight;
}

/** Sizes the canvas to the viewport plus CANVAS_MARGIN on each side, in device pixels. */
function sizeCanvas(element: HTMLCanvasElement | null, container: HTMLElement): CanvasArea {
  const ratio = window.devicePixelRatio || 1;
  const marginX = Math.round(container.clientWidth * CANVAS_MARGIN);
  const marginY = Math.round(container.clientHeight * CANVAS_MARGIN);
  const width = container.clientWidth + 2 * marginX;
  const height = container.clientHeight + 2 * marginY;
  if (element) {
    element.width = Math.max(1, Math.round(width * ratio));
    element.height = Math.max(1, Math.round(height * ratio));
    Object.assign(element.style, { left: `${-marginX}px`, top: `${-marginY}px`, width: `${width}px`, height: `${height}px` });
  }
  return { width, height, marginX, marginY, ratio };
}

/** The theme's card colours, from the styles.css variables in effect on the map. */
function cardColours(element: Element): CardColours {
  const style = getComputedStyle(element);
  const value = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    surface: value('--surface', '#ffffff'),
    border: value('--border', '#d5d9e0'),
    text: value('--text', '#1b1f27'),
    selected: value('--selected', '#2563eb'),
    muted: value('--muted', '#667085'),
    accent: value('--accent', '#2563eb'),
    island: value('--island', 'rgba(37, 99, 235, 0.05)'),
    islandBorder: value('--island-border', 'rgba(37, 99, 235, 0.25)'),
  };
}

/** jsdom has no ResizeObserver; the map then keeps its first size. */
class ResizeObserverOrNoop {
  private readonly observer: ResizeObserver | undefined;
  constructor(callback: () => void) {
    this.observer = typeof ResizeObserver === 'undefined' ? undefined : new ResizeObserver(callback);
  }
  observe(element: Element): void {
    this.observer?.observe(element);
  }
  disconnect(): void {
    this.observer?.disconnect();
  }
}
