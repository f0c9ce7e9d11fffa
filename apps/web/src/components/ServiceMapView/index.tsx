import { select } from 'd3-selection';
import { zoom, zoomIdentity, type D3ZoomEvent, type ZoomBehavior, type ZoomTransform } from 'd3-zoom';
import { memo, useCallback, useLayoutEffect, useMemo, useRef, type MouseEvent } from 'react';
import type { Card, Link } from '@tycho/servicemap';
import { linkLabel, linkVerdictClass, type LinkVerdictClass, type Selection } from '../../domain/selection.ts';
import { hitTestLink, linkWidth, type LinkCurve } from '../../layout/linkGeometry.ts';
import { fitTransform, layoutBounds, type CardBox, type IslandBox } from '../../layout/mapLayout.ts';
import type { LinkPalette } from '../../theme.ts';
import { MapCard } from '../MapCard/index.tsx';

/**
 * The service map. Rendering choice, for 2,000 cards and 10,000 links within
 * a 20 ms frame: links are stroked on one <canvas>, batched by style into a
 * handful of paths and culled to the viewport, redrawn on every zoom frame;
 * cards are HTML buttons (focusable, readable, testable) in one layer that
 * pan and zoom move with a single CSS transform, which the compositor
 * applies without touching the cards. Links also exist as a visually hidden
 * list of buttons, so keyboards, screen readers and tests can reach them.
 *
 * A zoom frame touches no React state: it sets the one transform, toggles
 * the far-zoom class when the scale crosses FAR_ZOOM, and asks for one canvas
 * redraw per animation frame. Re-renders of the app (stream batches, status)
 * reach the cards and the link list only when their own inputs change: the
 * handlers passed down are stable and the selection is compared by value.
 * The link list is kept whole (every link stays in the accessibility tree
 * and the tab order) but sits off-screen under `content-visibility: auto`, so
 * the browser styles and lays it out only when focus enters it; cards do the
 * same when off-screen, and drop their text when zoomed too far out to read it.
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
/** Below this scale card text is under ~6 px: cards are drawn as boxes (their accessible names stay). */
export const FAR_ZOOM = 0.4;

export function ServiceMapView(props: ServiceMapViewProps) {
  const { cards, links, boxes, islands, curves, selection, palette, fitKey } = props;
  const viewport = useRef<HTMLDivElement>(null);
  const world = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const transform = useRef<ZoomTransform>(zoomIdentity);
  const behaviour = useRef<ZoomBehavior<HTMLDivElement, unknown> | undefined>(undefined);
  const frame = useRef<number | undefined>(undefined);
  const fittedFor = useRef<{ view: string; islands: number } | undefined>(undefined);
  const userMoved = useRef(false);

  // The app makes a new selection object on every render: compare it by value.
  const selectedKind = selection.kind;
  const selectedId = selection.kind === 'none' ? undefined : selection.id;
  const stableSelection = useMemo<Selection>(() => (selectedId === undefined ? { kind: 'none' } : { kind: selectedKind as 'card' | 'link', id: selectedId }), [selectedKind, selectedId]);
  const related = useMemo(() => relatedTo(stableSelection, links), [stableSelection, links]);
  const drawState = useRef({ curves, links, related, selection: stableSelection, palette });
  drawState.current = { curves, links, related, selection: stableSelection, palette };
  // Handlers from the app change identity on every render; the children get stable ones.
  const handlers = useRef(props);
  handlers.current = props;
  const selectCard = useCallback((id: string) => handlers.current.onSelectCard(id), []);
  const selectLink = useCallback((id: string) => handlers.current.onSelectLink(id), []);

  function draw(): void {
    frame.current = undefined;
    const element = canvas.current;
    const context = element?.getContext('2d');
    if (!element || !context) return;
    const { curves: allCurves, links: allLinks, related: focus, selection: selected, palette: colours } = drawState.current;
    drawLinks(context, element, transform.current, allCurves, allLinks, focus, selected, colours);
  }

  function drawNow(): void {
    if (frame.current !== undefined) cancelAnimationFrame(frame.current);
    draw();
  }

  function scheduleDraw(): void {
    if (frame.current === undefined) frame.current = requestAnimationFrame(draw);
  }

  function fit(): void {
    const element = viewport.current;
    const bounds = layoutBounds({ islands: new Map(islands.map((island) => [island.key, island])), cards: boxes, islandOrder: [], shelf: { width: 0, x: 0, y: 0, height: 0 } });
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
      .on('zoom', (event: D3ZoomEvent<HTMLDivElement, unknown>) => {
        transform.current = event.transform;
        if (event.sourceEvent) userMoved.current = true;
        const layer = world.current;
        if (layer) {
          layer.style.transform = `translate(${event.transform.x}px, ${event.transform.y}px) scale(${event.transform.k})`;
          // A class change only when the scale crosses the threshold, not per frame.
          const far = event.transform.k < FAR_ZOOM;
          if (layer.classList.contains('far') !== far) layer.classList.toggle('far', far);
        }
        scheduleDraw();
      });
    behaviour.current = zoomBehaviour;
    select(element).call(zoomBehaviour).on('dblclick.zoom', null);
    const resize = new ResizeObserverOrNoop(() => {
      sizeCanvas(canvas.current, element);
      drawNow();
    });
    resize.observe(element);
    sizeCanvas(canvas.current, element);
    return () => {
      resize.disconnect();
      select(element).on('.zoom', null);
      if (frame.current !== undefined) cancelAnimationFrame(frame.current);
    };
    // The zoom behaviour is made once; it reads the latest state through refs.
  }, []);

  // Fit when the view changes, and again as islands appear until the user pans or zooms.
  useLayoutEffect(() => {
    if (boxes.size === 0) return;
    const last = fittedFor.current;
    const newView = last?.view !== fitKey;
    if (newView) userMoved.current = false;
    if (newView || (!userMoved.current && last?.islands !== islands.length)) {
      fittedFor.current = { view: fitKey, islands: islands.length };
      fit();
    }
    // New data is drawn in the same commit; only zoom frames wait for requestAnimationFrame.
    drawNow();
    // Only what the drawing depends on: an app re-render with the same map redraws nothing.
  }, [fitKey, boxes, islands, curves, links, related, stableSelection, palette]);

  function onBackgroundClick(event: MouseEvent<HTMLDivElement>): void {
    if (event.target instanceof Element && event.target.closest('button')) return;
    const element = viewport.current;
    if (!element) return;
    const rect = element.getBoundingClientRect();
    const [x, y] = transform.current.invert([event.clientX - rect.left, event.clientY - rect.top]);
    const hit = hitTestLink(curves, x, y, 6 / transform.current.k);
    if (hit) props.onSelectLink(hit.id);
    else props.onClearSelection();
  }

  return (
    <div className="map" data-testid="service-map">
      <div className="map-viewport" ref={viewport} onClick={onBackgroundClick}>
        <canvas className="map-links" ref={canvas} aria-hidden="true" />
        <div className="map-world" ref={world}>
          {islands.map((island) => (
            <IslandFrame key={island.key} island={island} />
          ))}
          <CardLayer cards={cards} boxes={boxes} selection={stableSelection} related={related} onSelectCard={selectCard} />
        </div>
      </div>
      <div className="map-controls">
        <button type="button" onClick={() => zoomBy(1.25)} aria-label="Zoom in">+</button>
        <button type="button" onClick={() => zoomBy(0.8)} aria-label="Zoom out">−</button>
        <button type="button" onClick={fit} aria-label="Fit map to view" data-testid="map-fit">Fit</button>
      </div>
      <LinkList links={links} cards={cards} selection={stableSelection} onSelectLink={selectLink} />
    </div>
  );

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
  selection: Selection;
  related: { cards: Set<string> } | undefined;
  onSelectCard: (id: string) => void;
}) {
  const { cards, boxes, selection, related } = props;
  return (
    <>
      {[...boxes.values()].map((box) => {
        const card = cards.get(box.id);
        if (!card) return null;
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

function sizeCanvas(element: HTMLCanvasElement | null, container: HTMLElement): void {
  if (!element) return;
  const ratio = window.devicePixelRatio || 1;
  const width = container.clientWidth;
  const height = container.clientHeight;
  element.width = Math.max(1, Math.round(width * ratio));
  element.height = Math.max(1, Math.round(height * ratio));
  element.style.width = `${width}px`;
  element.style.height = `${height}px`;
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

interface StrokeGroup {
  colour: string;
  width: number;
  dashed: boolean;
  emphasised: boolean;
  curves: LinkCurve[];
}

/** Strokes the visible links, one path per colour × width × dash, then their arrowheads. */
function drawLinks(
  context: CanvasRenderingContext2D,
  element: HTMLCanvasElement,
  transform: ZoomTransform,
  curves: readonly LinkCurve[],
  links: ReadonlyMap<string, Link>,
  related: { links: Set<string> } | undefined,
  selection: Selection,
  palette: LinkPalette,
): void {
  const ratio = window.devicePixelRatio || 1;
  context.setTransform(1, 0, 0, 1, 0, 0);
  context.clearRect(0, 0, element.width, element.height);
  context.setTransform(ratio * transform.k, 0, 0, ratio * transform.k, ratio * transform.x, ratio * transform.y);
  const [minX, minY] = transform.invert([0, 0]);
  const [maxX, maxY] = transform.invert([element.width / ratio, element.height / ratio]);

  const groups = new Map<string, StrokeGroup>();
  for (const curve of curves) {
    if (curve.maxX < minX || curve.minX > maxX || curve.maxY < minY || curve.minY > maxY) continue;
    const link = links.get(curve.id);
    if (!link) continue;
    const verdict: LinkVerdictClass = linkVerdictClass(link);
    const dimmed = related !== undefined && !related.links.has(link.id);
    const emphasised = selection.kind === 'link' && selection.id === link.id;
    const colour = dimmed ? palette.dimmed : palette.verdict[verdict];
    const width = Math.round(linkWidth(link.flowsPerSecond) * 2) / 2 + (emphasised ? 2 : 0);
    const key = `${colour}|${width}|${verdict === 'mixed'}|${emphasised}`;
    let group = groups.get(key);
    if (!group) {
      group = { colour, width, dashed: verdict === 'mixed', emphasised, curves: [] };
      groups.set(key, group);
    }
    group.curves.push(curve);
  }

  const arrows = transform.k > 0.25;
  // Zoomed out past FAR_ZOOM the canvas is rasterised in software at every
  // frame with thousands of links in view: links are 1 screen pixel wide
  // (which Skia draws as hairlines, far cheaper than stroking), and undashed
  // (a 6-unit dash is under 2.5 px there anyway).
  const far = transform.k < FAR_ZOOM;
  for (const group of groups.values()) {
    context.strokeStyle = group.colour;
    context.fillStyle = group.colour;
    // Zoomed out, a link keeps at least ~1.5 screen pixels (1 when far) so it stays visible.
    context.lineWidth = far ? (group.emphasised ? 3 : 1) / (ratio * transform.k) : Math.max(group.width, 1.5 / transform.k);
    context.setLineDash(group.dashed && !far ? [6, 4] : []);
    context.beginPath();
    for (const c of group.curves) {
      context.moveTo(c.x1, c.y1);
      context.bezierCurveTo(c.c1x, c.c1y, c.c2x, c.c2y, arrows ? c.x2 - 7 : c.x2, c.y2);
    }
    context.stroke();
    if (!arrows) continue;
    context.setLineDash([]);
    context.beginPath();
    for (const c of group.curves) {
      context.moveTo(c.x2, c.y2);
      context.lineTo(c.x2 - 9, c.y2 - 4.5);
      context.lineTo(c.x2 - 9, c.y2 + 4.5);
      context.closePath();
    }
    context.fill();
  }
}
