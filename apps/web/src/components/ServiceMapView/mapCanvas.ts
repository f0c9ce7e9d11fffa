import type { Card, Link } from '@tycho/servicemap';
import { linkVerdictClass, type Selection } from '../../domain/selection.ts';
import { linkWidth, type LinkCurve } from '../../layout/linkGeometry.ts';
import { CARD_HEADER_HEIGHT, PORT_ROW_HEIGHT, type CardBox, type IslandBox } from '../../layout/mapLayout.ts';
import type { LinkPalette } from '../../theme.ts';

/**
 * What the map's canvas draws: every link, and the cards as boxes with their
 * titles. Zoomed out past FAR_ZOOM the HTML cards are hidden and these are
 * the cards the user sees (`far`); closer in they lie under the HTML cards,
 * which cover them, so that the HTML cards can be hidden in the middle of a
 * gesture without a frame in which the cards are missing. On a map large
 * enough to window its HTML cards, the canvas also draws the namespace
 * islands (under everything), which are then not HTML: a page-sized HTML
 * layer scaled by a zoom gesture is re-rastered tile by tile, hundreds of
 * tiles per wheel step. Only what lies in the drawn area (the viewport and a margin around it, so
 * a pan or zoom shows drawn content while the canvas bitmap is moved instead
 * of redrawn) is drawn.
 *
 * The scene is packed into typed arrays (`packScene`, on the main thread,
 * once per change of the map, selection or palette) so that it can be posted
 * to the painting worker (mapPaintWorker.ts) cheaply; `drawScene` works on
 * any 2D context, in the worker or, where there is none, on the page.
 */
export interface CanvasScene {
  curves: readonly LinkCurve[];
  links: ReadonlyMap<string, Link>;
  cards: ReadonlyMap<string, Card>;
  boxes: ReadonlyMap<string, CardBox>;
  /** The islands the canvas draws: none where they are HTML. */
  islands: readonly IslandBox[];
  related: { cards: Set<string>; links: Set<string> } | undefined;
  selection: Selection;
  palette: LinkPalette;
}

/** One stroke style of links: every link of a style goes into one path. */
export interface StrokeStyle {
  colour: string;
  width: number;
  dashed: boolean;
  emphasised: boolean;
}

/** The scene as plain data: structured-clone friendly, and cheap to walk. */
export interface PackedScene {
  /** CURVE_FIELDS numbers per link: x1, y1, c1x, c1y, c2x, c2y, x2, y2, minX, minY, maxX, maxY. */
  curves: Float64Array;
  /** Per link, its index in `styles`. */
  curveStyles: Uint16Array;
  styles: StrokeStyle[];
  /** 4 numbers per card: x, y, width, height. */
  boxes: Float64Array;
  /** Per card, 1 when dimmed by the selection. */
  boxDimmed: Uint8Array;
  titles: string[];
  /** Per card, the namespace (or subtitle) line and the port rows its box shows, as the HTML card words them. */
  subtitles: string[];
  ports: string[][];
  /** Index of the selected card's box, or -1. */
  selectedBox: number;
  /** 4 numbers per island with cards: x, y, width, height; and its title. */
  islandBoxes: Float64Array;
  islandTitles: string[];
}

export const CURVE_FIELDS = 12;

/** The card colours of the theme (styles.css variables). */
export interface CardColours {
  surface: string;
  border: string;
  text: string;
  selected: string;
  muted: string;
  accent: string;
  island: string;
  islandBorder: string;
}

/** The canvas: `margin` CSS px on each side beyond the viewport, `ratio` device px per CSS px. */
export interface CanvasArea {
  width: number;
  height: number;
  marginX: number;
  marginY: number;
  ratio: number;
}

/** The canvas bitmap's size in device pixels. */
export function deviceSize(area: CanvasArea): { width: number; height: number } {
  return { width: Math.max(1, Math.round(area.width * area.ratio)), height: Math.max(1, Math.round(area.height * area.ratio)) };
}

/** A zoom transform as plain numbers (d3-zoom's ZoomTransform does not cross to a worker). */
export interface ViewTransform {
  k: number;
  x: number;
  y: number;
}

/** Card titles drawn on the canvas are at least this many screen px, so they stay legible when zoomed out. */
const MIN_TITLE_PX = 10;
/** Namespace and port rows are drawn when a card is at least this wide on screen (their 12 px text is then 6 px or more). */
const MIN_CARD_PX_FOR_DETAILS = 110;
const DETAIL_PX = 12;
/** Where the HTML card's namespace line starts (padding 8 + header 22 px). */
const SUBTITLE_TOP = 31;
/** Titles are left out when a card is narrower than this on screen. */
const MIN_CARD_PX_FOR_TITLE = 48;
const TITLE_PX = 14;
/** A title character's mean width per px of font size (system-ui, semibold), to cut titles without measuring each. */
const TITLE_CHAR_WIDTH = 0.62;
const CARD_INSET = 10;
/** The HTML cards' border radius (styles.css `.card`). */
const CARD_RADIUS = 10;
/** The HTML islands' border radius, title inset and title size (styles.css `.island`, `.island-title`). */
const ISLAND_RADIUS = 14;
const ISLAND_TITLE_LEFT = 16;
const ISLAND_TITLE_TOP = 8;
/** Arrowheads (and curves) only above this scale. */
const ARROW_ZOOM = 0.25;

/** Packs the scene: per link its curve and stroke style, per card its box, dimming and title. */
export function packScene(scene: CanvasScene): PackedScene {
  const { curves, links, cards, boxes, islands, related, selection, palette } = scene;
  const packedCurves = new Float64Array(curves.length * CURVE_FIELDS);
  const curveStyles = new Uint16Array(curves.length);
  const styles: StrokeStyle[] = [];
  const styleIndex = new Map<string, number>();
  let n = 0;
  for (const curve of curves) {
    const link = links.get(curve.id);
    if (!link) continue;
    const verdict = linkVerdictClass(link);
    const dimmed = related !== undefined && !related.links.has(link.id);
    const emphasised = selection.kind === 'link' && selection.id === link.id;
    const colour = dimmed ? palette.dimmed : palette.verdict[verdict];
    const width = Math.round(linkWidth(link.flowsPerSecond) * 2) / 2 + (emphasised ? 2 : 0);
    const key = `${colour}|${width}|${verdict === 'mixed'}|${emphasised}`;
    let index = styleIndex.get(key);
    if (index === undefined) {
      index = styles.length;
      styles.push({ colour, width, dashed: verdict === 'mixed', emphasised });
      styleIndex.set(key, index);
    }
    packedCurves.set([curve.x1, curve.y1, curve.c1x, curve.c1y, curve.c2x, curve.c2y, curve.x2, curve.y2, curve.minX, curve.minY, curve.maxX, curve.maxY], n * CURVE_FIELDS);
    curveStyles[n] = index;
    n++;
  }
  const packedBoxes = new Float64Array(boxes.size * 4);
  const boxDimmed = new Uint8Array(boxes.size);
  const titles: string[] = [];
  const subtitles: string[] = [];
  const ports: string[][] = [];
  let selectedBox = -1;
  let b = 0;
  for (const box of boxes.values()) {
    packedBoxes.set([box.x, box.y, box.width, box.height], b * 4);
    boxDimmed[b] = related !== undefined && !related.cards.has(box.id) ? 1 : 0;
    const card = cards.get(box.id);
    titles.push(card?.title ?? '');
    subtitles.push(card?.namespace ?? card?.subtitle ?? '');
    const shown = card ? (card.ports.length > box.portRows ? card.ports.slice(0, Math.max(0, box.portRows - 1)) : card.ports) : [];
    const rows = shown.map((port) => [String(port.port), port.protocol, port.l7].filter(Boolean).join(' · '));
    if (card && card.ports.length > shown.length) rows.push(`+${card.ports.length - shown.length} more ports`);
    ports.push(rows);
    if (selection.kind === 'card' && selection.id === box.id) selectedBox = b;
    b++;
  }
  const drawnIslands = islands.filter((island) => island.cells.some((cell) => cell !== undefined));
  const islandBoxes = new Float64Array(drawnIslands.length * 4);
  drawnIslands.forEach((island, i) => islandBoxes.set([island.x, island.y, island.width, island.height], i * 4));
  const islandTitles = drawnIslands.map((island) => island.title);
  return { curves: packedCurves.subarray(0, n * CURVE_FIELDS), curveStyles: curveStyles.subarray(0, n), styles, boxes: packedBoxes, boxDimmed, titles, subtitles, ports, selectedBox, islandBoxes, islandTitles };
}

/** The 2D contexts drawScene works on: a page canvas's or an OffscreenCanvas's. */
export type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/**
 * Draws the scene for `transform` on a canvas of `area`, with the cards when
 * `cards` (the theme's colours) is given; `far`: the HTML cards are hidden
 * (links are hairlines, dimmed cards are drawn faded). Returns how many links
 * and cards it drew.
 */
export function drawScene(context: Context2D, area: CanvasArea, transform: ViewTransform, scene: PackedScene, cards: CardColours | undefined, far: boolean): number {
  const { ratio, marginX, marginY } = area;
  const { k } = transform;
  context.setTransform(1, 0, 0, 1, 0, 0);
  context.clearRect(0, 0, context.canvas.width, context.canvas.height);
  context.setTransform(ratio * k, 0, 0, ratio * k, ratio * (transform.x + marginX), ratio * (transform.y + marginY));
  const view: View = {
    minX: (-marginX - transform.x) / k,
    minY: (-marginY - transform.y) / k,
    maxX: (area.width - marginX - transform.x) / k,
    maxY: (area.height - marginY - transform.y) / k,
  };
  if (cards) drawIslands(context, ratio, k, view, scene, cards);
  let drawn = drawLinks(context, ratio, k, view, scene, far);
  if (cards) drawn += drawCards(context, ratio, k, view, scene, cards, far);
  return drawn;
}

interface View {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** The visible islands as the HTML ones look: tinted, a dashed rounded border, the title at the top left (at least MIN_TITLE_PX on screen). */
function drawIslands(context: Context2D, ratio: number, k: number, view: View, scene: PackedScene, colours: CardColours): void {
  const { islandBoxes, islandTitles } = scene;
  const titlePx = Math.max(TITLE_PX, MIN_TITLE_PX / k);
  context.lineWidth = 1 / (ratio * k);
  context.setLineDash([4 / k, 4 / k]);
  context.fillStyle = colours.island;
  context.strokeStyle = colours.islandBorder;
  context.font = `600 ${titlePx}px system-ui, sans-serif`;
  context.textBaseline = 'top';
  for (let i = 0; i < islandTitles.length; i++) {
    const [x, y, width, height] = [islandBoxes[i * 4]!, islandBoxes[i * 4 + 1]!, islandBoxes[i * 4 + 2]!, islandBoxes[i * 4 + 3]!];
    if (x > view.maxX || x + width < view.minX || y > view.maxY || y + height < view.minY) continue;
    context.beginPath();
    context.roundRect(x, y, width, height, ISLAND_RADIUS);
    context.fill();
    context.stroke();
    context.fillStyle = colours.muted;
    context.fillText(islandTitles[i]!, x + ISLAND_TITLE_LEFT, y + ISLAND_TITLE_TOP);
    context.fillStyle = colours.island;
  }
  context.setLineDash([]);
}

/** Strokes the visible links, one path per stroke style, then their arrowheads. */
function drawLinks(context: Context2D, ratio: number, k: number, view: View, scene: PackedScene, far: boolean): number {
  const { curves, curveStyles, styles } = scene;
  const groups: number[][] = styles.map(() => []);
  let drawn = 0;
  for (let i = 0; i < curveStyles.length; i++) {
    const o = i * CURVE_FIELDS;
    if (curves[o + 10]! < view.minX || curves[o + 8]! > view.maxX || curves[o + 11]! < view.minY || curves[o + 9]! > view.maxY) continue;
    groups[curveStyles[i]!]!.push(o);
    drawn++;
  }

  const arrows = k > ARROW_ZOOM;
  // Zoomed out past FAR_ZOOM thousands of links are in view: links are
  // 1 screen pixel wide (which Skia draws as hairlines, far cheaper than
  // stroking), and undashed; past ARROW_ZOOM, where a card is a few pixels
  // wide, they are straight.
  styles.forEach((style, s) => {
    const group = groups[s]!;
    if (group.length === 0) return;
    context.strokeStyle = style.colour;
    context.fillStyle = style.colour;
    // Zoomed out, a link keeps at least ~1.5 screen pixels (1 when far) so it stays visible.
    context.lineWidth = far ? (style.emphasised ? 3 : 1) / (ratio * k) : Math.max(style.width, 1.5 / k);
    context.setLineDash(style.dashed && !far ? [6, 4] : []);
    context.beginPath();
    for (const o of group) {
      context.moveTo(curves[o]!, curves[o + 1]!);
      if (arrows) context.bezierCurveTo(curves[o + 2]!, curves[o + 3]!, curves[o + 4]!, curves[o + 5]!, curves[o + 6]! - 7, curves[o + 7]!);
      else context.lineTo(curves[o + 6]!, curves[o + 7]!);
    }
    context.stroke();
    if (!arrows) return;
    context.setLineDash([]);
    context.beginPath();
    for (const o of group) {
      const x2 = curves[o + 6]!;
      const y2 = curves[o + 7]!;
      context.moveTo(x2, y2);
      context.lineTo(x2 - 9, y2 - 4.5);
      context.lineTo(x2 - 9, y2 + 4.5);
      context.closePath();
    }
    context.fill();
  });
  return drawn;
}

/**
 * The visible cards as boxes (dimmed ones faded, the selected one ringed)
 * with their titles when there is room. Under the HTML cards (not `far`)
 * boxes get the HTML cards' rounded corners, and neither dimmed cards (the
 * HTML ones are translucent: the canvas card would show through) nor the
 * selection ring (wider than the card) are drawn.
 */
function drawCards(context: Context2D, ratio: number, k: number, view: View, scene: PackedScene, colours: CardColours, far: boolean): number {
  const { boxes, boxDimmed, titles, subtitles, ports, selectedBox } = scene;
  const visible: number[] = [];
  const radius = far ? 0 : CARD_RADIUS;
  for (let i = 0; i < boxDimmed.length; i++) {
    if (!far && boxDimmed[i]) continue;
    const x = boxes[i * 4]!;
    const y = boxes[i * 4 + 1]!;
    if (x > view.maxX || x + boxes[i * 4 + 2]! < view.minX || y > view.maxY || y + boxes[i * 4 + 3]! < view.minY) continue;
    visible.push(i);
  }
  context.setLineDash([]);
  context.lineWidth = 1 / (ratio * k);
  for (const dimmed of [0, 1]) {
    context.globalAlpha = dimmed ? 0.3 : 1;
    context.beginPath();
    for (const i of visible) {
      if (boxDimmed[i] !== dimmed) continue;
      if (radius > 0) context.roundRect(boxes[i * 4]!, boxes[i * 4 + 1]!, boxes[i * 4 + 2]!, boxes[i * 4 + 3]!, radius);
      else context.rect(boxes[i * 4]!, boxes[i * 4 + 1]!, boxes[i * 4 + 2]!, boxes[i * 4 + 3]!);
    }
    context.fillStyle = colours.surface;
    context.fill();
    context.strokeStyle = colours.border;
    context.stroke();
  }
  context.globalAlpha = 1;
  // Under the HTML cards the selected one draws its own ring.
  if (selectedBox >= 0 && far) {
    const o = selectedBox * 4;
    context.lineWidth = 2 / k;
    context.strokeStyle = colours.selected;
    context.strokeRect(boxes[o]! - 2 / k, boxes[o + 1]! - 2 / k, boxes[o + 2]! + 4 / k, boxes[o + 3]! + 4 / k);
  }

  const cardWidth = visible.length > 0 ? boxes[visible[0]! * 4 + 2]! : 0;
  if (cardWidth * k < MIN_CARD_PX_FOR_TITLE) return visible.length;
  // Titles at their HTML size, or MIN_TITLE_PX on screen when that is smaller; cut to the card's width.
  const fontSize = Math.max(TITLE_PX, MIN_TITLE_PX / k);
  context.font = `600 ${fontSize}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
  context.textBaseline = 'top';
  context.fillStyle = colours.text;
  const maxChars = Math.max(2, Math.floor((cardWidth - 2 * CARD_INSET) / (fontSize * TITLE_CHAR_WIDTH)));
  for (const i of visible) {
    const title = titles[i];
    if (!title) continue;
    context.globalAlpha = boxDimmed[i] ? 0.3 : 1;
    context.fillText(cutTitle(title, maxChars), boxes[i * 4]! + CARD_INSET, boxes[i * 4 + 1]! + CARD_INSET);
  }
  context.globalAlpha = 1;
  // Close enough for the HTML card's smaller lines to be read: the namespace and port rows too, where the HTML card has them.
  if (cardWidth * k < MIN_CARD_PX_FOR_DETAILS) return visible.length;
  const detailChars = Math.floor((cardWidth - 2 * CARD_INSET) / (DETAIL_PX * TITLE_CHAR_WIDTH));
  context.font = `${DETAIL_PX}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
  context.fillStyle = colours.muted;
  for (const i of visible) {
    context.globalAlpha = boxDimmed[i] ? 0.3 : 1;
    context.fillText(cutTitle(subtitles[i] ?? '', detailChars), boxes[i * 4]! + CARD_INSET, boxes[i * 4 + 1]! + SUBTITLE_TOP);
  }
  context.font = `${DETAIL_PX}px ui-monospace, monospace`;
  for (const i of visible) {
    context.globalAlpha = boxDimmed[i] ? 0.3 : 1;
    (ports[i] ?? []).forEach((row, r) => {
      const y = boxes[i * 4 + 1]! + CARD_HEADER_HEIGHT + r * PORT_ROW_HEIGHT;
      context.fillStyle = colours.accent;
      context.fillRect(boxes[i * 4]!, y, 3, PORT_ROW_HEIGHT);
      context.fillStyle = colours.text;
      context.fillText(cutTitle(row, detailChars), boxes[i * 4]! + CARD_INSET, y + 3);
    });
  }
  context.globalAlpha = 1;
  return visible.length;
}

/** `title`, cut with an ellipsis to `maxChars` characters. */
function cutTitle(title: string, maxChars: number): string {
  return title.length <= maxChars ? title : `${title.slice(0, maxChars - 1)}…`;
}
