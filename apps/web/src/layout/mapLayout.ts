import type { Card, Link } from '@tycho/servicemap';

/**
 * Where the service map's cards go. Pure and deterministic: no DOM, the same
 * sequence of inputs gives the same layout, so it is tested and benchmarked
 * in Node.
 *
 * Each namespace is exactly one island (cards outside namespaces gather in a
 * `world` and a `cluster` island). An island is a grid of equal cells, tall
 * enough for as many port rows as its first cards have (up to
 * MAX_PORT_ROWS; a card that comes later with more ports summarises the rest
 * on its last row). Senders fill it from the left column, receivers from the
 * right, so arrows mostly run left to right.
 *
 * Islands sit in shelves, left to right then top to bottom, in name order
 * (namespaces, then world, then cluster), whatever order they arrived in.
 * An island's grid shape and the shelves' width are chosen so that the
 * whole map fits the viewport at a large scale (see chooseGrids), so the
 * lab's map is readable at its default fit whether its cards come all at
 * once (a reload) or a few at a time (a freshly started lab).
 *
 * Stability: a card keeps its cell, so its place inside its island, for as
 * long as it is on the map. Islands reserve no room (room reserved for a
 * namespace's first two cards is not enough for its next ten, and costs
 * scale meanwhile): a full island grows in place, by columns on its right
 * or rows at its bottom, every card keeping its column and row, and the
 * islands are packed again, moving as whole blocks in the same order (the
 * map view fits itself to the new extent until the user pans or zooms).
 * The shelf width of the last packing is kept while it is nearly as good as
 * the best one, so islands do not hop between shelves at every arrival.
 * Cards that left free their cells; an island whose cards all left is
 * dropped.
 */

export const CARD_WIDTH = 220;
export const CARD_HEADER_HEIGHT = 52;
export const PORT_ROW_HEIGHT = 18;
/** Ports shown on a card; more are summarised on the last row. */
export const MAX_PORT_ROWS = 4;
const CARD_PADDING = 8;
/** Room between columns of cards, for the arrows. */
const COLUMN_GAP = 64;
const ROW_GAP = 14;
const CELL_WIDTH = CARD_WIDTH + COLUMN_GAP;
const ISLAND_PADDING = 20;
const ISLAND_TITLE_HEIGHT = 30;
const ISLAND_GAP = 40;
/** The viewport assumed when the layout is not told (the map pane of a laptop screen). */
export const DEFAULT_VIEWPORT = { width: 1280, height: 512 };
/** Room fitTransform leaves on each side. */
const FIT_MARGIN = 24;
/** A new packing replaces the last one only when it fits the map this much larger. */
const REPACK_GAIN = 1.1;
/** Island grids that score within this factor of the best are as good (see chooseGrids). */
const SHAPE_TOLERANCE = 1.1;
/** Up to this many islands, every run of islands is tried as the shelf width; beyond, runs from the first island. */
const ALL_RUNS_UP_TO = 20;

export interface CardBox {
  id: string;
  island: string;
  /** The card's cell in its island: kept while the card is on the map. */
  column: number;
  row: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Port rows the card shows: its island's. */
  portRows: number;
}

export interface IslandBox {
  key: string;
  /** The namespace, `world` or `cluster`. */
  title: string;
  namespace: string | undefined;
  x: number;
  y: number;
  width: number;
  height: number;
  columns: number;
  rows: number;
  /** Port rows its cells have room for. */
  portRows: number;
  /** Card id per cell, column by column (`column * rows + row`); undefined when free. */
  cells: (string | undefined)[];
}

/** The shelves the islands were last packed into: islands wrap to a new shelf past `shelfWidth`. */
export interface IslandPacking {
  shelfWidth: number;
}

export interface MapLayout {
  cards: ReadonlyMap<string, CardBox>;
  islands: ReadonlyMap<string, IslandBox>;
  /** Islands in packing order. */
  islandOrder: readonly string[];
  packing: IslandPacking;
}

export interface LayoutOptions {
  /** The size of the viewport the map is shown in (CSS px); islands are shaped and packed for it. */
  viewport?: { width: number; height: number };
}

export const EMPTY_LAYOUT: MapLayout = {
  cards: new Map(),
  islands: new Map(),
  islandOrder: [],
  packing: { shelfWidth: 0 },
};

/** A card's height when it may show `portRows` port rows. */
export function cardHeight(card: Pick<Card, 'ports'>, portRows = MAX_PORT_ROWS): number {
  const rows = Math.min(card.ports.length, portRows);
  return CARD_HEADER_HEIGHT + rows * PORT_ROW_HEIGHT + CARD_PADDING;
}

function cellHeight(portRows: number): number {
  return CARD_HEADER_HEIGHT + portRows * PORT_ROW_HEIGHT + CARD_PADDING + ROW_GAP;
}

/** The island a card belongs to: its namespace, or `~world` / `~cluster` for cards outside namespaces. */
export function islandKeyOf(card: Pick<Card, 'namespace' | 'kind'>): string {
  if (card.namespace) return card.namespace;
  return card.kind === 'world' ? '~world' : '~cluster';
}

function islandTitleOf(key: string): string {
  return key.startsWith('~') ? key.slice(1) : key;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Namespaces in name order, then world, then cluster. */
function compareIslandKeys(a: string, b: string): number {
  const rank = (key: string) => (key === '~world' ? 1 : key === '~cluster' ? 2 : 0);
  return rank(a) - rank(b) || compareStrings(a, b);
}

interface Grid {
  columns: number;
  rows: number;
}

interface Size {
  width: number;
  height: number;
}

function islandSize(grid: Grid, portRows: number): Size {
  return {
    width: ISLAND_PADDING * 2 + grid.columns * CELL_WIDTH - COLUMN_GAP,
    height: ISLAND_TITLE_HEIGHT + grid.rows * cellHeight(portRows),
  };
}

export function layoutMap(previous: MapLayout, cards: Iterable<Card>, links: Iterable<Link>, options: LayoutOptions = {}): MapLayout {
  const viewport = options.viewport ?? DEFAULT_VIEWPORT;
  const present = new Map<string, Card>();
  for (const card of cards) present.set(card.id, card);
  const receivers = new Set<string>();
  for (const link of links) receivers.add(link.destination);

  const islands = new Map<string, IslandBox>();
  for (const [key, island] of previous.islands) islands.set(key, { ...island, cells: [...island.cells] });
  /** Cards kept from the previous layout, at their cells. */
  const kept = new Map<string, CardBox>();
  for (const [id, box] of previous.cards) {
    const island = islands.get(box.island)!;
    if (present.has(id)) kept.set(id, box);
    else island.cells[box.column * island.rows + box.row] = undefined;
  }

  const newcomers = [...present.values()]
    .filter((card) => !kept.has(card.id))
    .map((card) => ({ card, island: islandKeyOf(card), receiver: receivers.has(card.id) }))
    .sort((a, b) =>
      compareIslandKeys(a.island, b.island) ||
      Number(a.receiver) - Number(b.receiver) ||
      compareStrings(a.card.title, b.card.title) ||
      compareStrings(a.card.id, b.card.id));
  if (newcomers.length === 0 && kept.size === previous.cards.size) return previous;

  const incoming = new Map<string, { cards: number; portRows: number }>();
  for (const { card, island } of newcomers) {
    const demand = incoming.get(island) ?? { cards: 0, portRows: 1 };
    incoming.set(island, { cards: demand.cards + 1, portRows: Math.min(MAX_PORT_ROWS, Math.max(demand.portRows, card.ports.length)) });
  }
  for (const [key, island] of islands) {
    if (!incoming.has(key) && !island.cells.some((cell) => cell !== undefined)) islands.delete(key);
  }
  for (const [key, demand] of incoming) {
    if (!islands.has(key)) islands.set(key, emptyIsland(key, demand.portRows));
  }
  const order = [...islands.keys()].sort(compareIslandKeys);

  /** Islands too small for their cards, with the least grid they need. */
  const growing = new Map<string, { need: number; least: Grid }>();
  for (const [key, demand] of incoming) {
    const island = islands.get(key)!;
    const occupied = island.cells.filter((cell) => cell !== undefined).length;
    if (island.cells.length - occupied >= demand.cards) continue;
    const need = occupied + demand.cards;
    growing.set(key, { need, least: { columns: Math.max(island.columns, need > 1 ? 2 : 1), rows: Math.max(island.rows, 1) } });
  }
  const shapes = chooseGrids(order, islands, growing, viewport, previous.cards.size > 0);
  for (const [key, grid] of shapes) regrid(islands.get(key)!, grid);

  const islandsMoved = growing.size > 0 || order.length !== previous.islandOrder.length || order.some((key, i) => key !== previous.islandOrder[i]);
  const sizes = order.map((key) => sizeOf(islands.get(key)!));
  const packing = islandsMoved ? choosePacking(sizes, viewport, previous.packing.shelfWidth) : previous.packing;
  packShelves(sizes, packing.shelfWidth).forEach((at, i) => {
    const island = islands.get(order[i]!)!;
    island.x = at.x;
    island.y = at.y;
    island.width = sizes[i]!.width;
    island.height = sizes[i]!.height;
  });

  const boxes = new Map<string, CardBox>();
  const place = (card: Card, island: IslandBox, column: number, row: number, before: CardBox | undefined) => {
    const box: CardBox = {
      id: card.id,
      island: island.key,
      column,
      row,
      x: island.x + ISLAND_PADDING + column * CELL_WIDTH,
      y: island.y + ISLAND_TITLE_HEIGHT + row * cellHeight(island.portRows),
      width: CARD_WIDTH,
      height: cardHeight(card, island.portRows),
      portRows: island.portRows,
    };
    boxes.set(card.id, before && sameBox(before, box) ? before : box);
  };
  for (const [id, box] of kept) place(present.get(id)!, islands.get(box.island)!, box.column, box.row, box);
  for (const { card, island: key, receiver } of newcomers) {
    const island = islands.get(key)!;
    const cell = freeCell(island, receiver);
    island.cells[cell] = card.id;
    place(card, island, Math.floor(cell / island.rows), cell % island.rows, undefined);
  }

  return { cards: boxes, islands, islandOrder: order, packing };
}

function sameBox(a: CardBox, b: CardBox): boolean {
  return a.x === b.x && a.y === b.y && a.height === b.height && a.column === b.column && a.row === b.row && a.portRows === b.portRows && a.island === b.island;
}

function emptyIsland(key: string, portRows: number): IslandBox {
  return {
    key,
    title: islandTitleOf(key),
    namespace: key.startsWith('~') ? undefined : key,
    x: 0,
    y: 0,
    width: 0,
    height: 0,
    columns: 0,
    rows: 0,
    portRows,
    cells: [],
  };
}

function sizeOf(island: IslandBox): Size {
  return islandSize(island, island.portRows);
}

/** Gives an island a larger grid; every card keeps its column and row. */
function regrid(island: IslandBox, grid: Grid): void {
  const cells = new Array<string | undefined>(grid.columns * grid.rows).fill(undefined);
  island.cells.forEach((id, cell) => {
    if (id !== undefined) cells[Math.floor(cell / island.rows) * grid.rows + (cell % island.rows)] = id;
  });
  island.columns = grid.columns;
  island.rows = grid.rows;
  island.cells = cells;
}

/** Grids of at least `least` with room for `need` cards, none wider and taller than another. */
function candidateGrids(need: number, least: Grid): Grid[] {
  const grids: Grid[] = [];
  let lastRows = Infinity;
  for (let columns = least.columns; ; columns++) {
    const rows = Math.max(least.rows, Math.ceil(need / columns));
    if (rows < lastRows) grids.push({ columns, rows });
    lastRows = rows;
    if (rows === least.rows) break;
  }
  return grids;
}

/**
 * Grids for the islands that must grow. Each in turn scores its candidates
 * by the scale at which the whole map fits `viewport`, the other islands at
 * their current choice; two rounds, so the first islands' choice also sees
 * the later ones. While a map fills up (`lookahead`), a candidate's score
 * also weighs the best scale it allows once its island has twice the cards,
 * so an island that grows a few cards at a time does not commit early to a
 * shape that fits only its first cards. Among the candidates within
 * SHAPE_TOLERANCE of the best score, the one shaped most like the viewport
 * wins, then the one with fewer cells.
 */
function chooseGrids(order: readonly string[], islands: ReadonlyMap<string, IslandBox>, growing: ReadonlyMap<string, { need: number; least: Grid }>, viewport: Size, lookahead: boolean): Map<string, Grid> {
  const chosen = new Map<string, Grid>();
  for (const [key, { need, least }] of growing) {
    const columns = Math.max(least.columns, Math.ceil(Math.sqrt(need)));
    chosen.set(key, { columns, rows: Math.max(least.rows, Math.ceil(need / columns)) });
  }
  const sizes = order.map((key) => {
    const island = islands.get(key)!;
    return islandSize(chosen.get(key) ?? island, island.portRows);
  });
  const growingKeys = order.filter((key) => growing.has(key));
  const aspect = (viewport.width - 2 * FIT_MARGIN) / Math.max(1, viewport.height - 2 * FIT_MARGIN);
  for (let round = 0; round < 2; round++) {
    for (const key of growingKeys) {
      const index = order.indexOf(key);
      const { need, least } = growing.get(key)!;
      const portRows = islands.get(key)!.portRows;
      const scored = candidateGrids(need, least).map((grid) => {
        const size = islandSize(grid, portRows);
        sizes[index] = size;
        const now = bestPacking(sizes, viewport).scale;
        let later = now;
        if (lookahead) {
          later = 0;
          for (const grown of candidateGrids(2 * need, grid)) {
            sizes[index] = islandSize(grown, portRows);
            later = Math.max(later, bestPacking(sizes, viewport).scale);
          }
        }
        return { grid, size, scale: Math.sqrt(now * later), misfit: Math.abs(Math.log(size.width / size.height / aspect)) };
      });
      const top = Math.max(...scored.map((candidate) => candidate.scale));
      const [best] = scored
        .filter((candidate) => candidate.scale * SHAPE_TOLERANCE >= top)
        .sort((a, b) => a.misfit - b.misfit || a.grid.columns * a.grid.rows - b.grid.columns * b.grid.rows);
      chosen.set(key, best!.grid);
      sizes[index] = best!.size;
    }
  }
  return chosen;
}

/** The scale at which a map of `bounds` fits `viewport` (uncapped, unlike fitTransform's). */
function fitScale(bounds: Size, viewport: Size): number {
  return Math.min((viewport.width - 2 * FIT_MARGIN) / Math.max(1, bounds.width), (viewport.height - 2 * FIT_MARGIN) / Math.max(1, bounds.height));
}

/** The shelf width that fits islands of `sizes` (in order) into `viewport` at the largest scale. */
function bestPacking(sizes: readonly Size[], viewport: Size): { shelfWidth: number; scale: number } {
  const widest = Math.max(0, ...sizes.map((size) => size.width));
  const widths = new Set<number>([widest]);
  const starts = sizes.length <= ALL_RUNS_UP_TO ? sizes.length : 1;
  for (let start = 0; start < starts; start++) {
    let width = -ISLAND_GAP;
    for (let end = start; end < sizes.length; end++) {
      width += sizes[end]!.width + ISLAND_GAP;
      if (width > widest) widths.add(width);
    }
  }
  let best = { shelfWidth: widest, scale: -1 };
  for (const shelfWidth of [...widths].sort((a, b) => a - b)) {
    const scale = fitScale(packedBounds(sizes, shelfWidth), viewport);
    if (scale > best.scale * (1 + 1e-9)) best = { shelfWidth, scale };
  }
  return best;
}

/** The packing for islands whose sizes changed: the best one, or the last one while it fits nearly as large. */
function choosePacking(sizes: readonly Size[], viewport: Size, lastShelfWidth: number): IslandPacking {
  const best = bestPacking(sizes, viewport);
  if (lastShelfWidth > 0 && REPACK_GAIN * fitScale(packedBounds(sizes, lastShelfWidth), viewport) >= best.scale) return { shelfWidth: lastShelfWidth };
  return { shelfWidth: best.shelfWidth };
}

/** Where islands of `sizes` go: left to right along a shelf, and on a new shelf past `shelfWidth`. */
function packShelves(sizes: readonly Size[], shelfWidth: number): { x: number; y: number }[] {
  let x = 0;
  let y = 0;
  let shelfHeight = 0;
  return sizes.map((size) => {
    if (x > 0 && x + size.width > shelfWidth) {
      y += shelfHeight + ISLAND_GAP;
      x = 0;
      shelfHeight = 0;
    }
    const at = { x, y };
    x += size.width + ISLAND_GAP;
    shelfHeight = Math.max(shelfHeight, size.height);
    return at;
  });
}

/** The bounds of packShelves' result, without making it (the packing search calls this most). */
function packedBounds(sizes: readonly Size[], shelfWidth: number): Size {
  let x = 0;
  let y = 0;
  let shelfHeight = 0;
  let width = 0;
  for (const size of sizes) {
    if (x > 0 && x + size.width > shelfWidth) {
      y += shelfHeight + ISLAND_GAP;
      x = 0;
      shelfHeight = 0;
    }
    width = Math.max(width, x + size.width);
    x += size.width + ISLAND_GAP;
    shelfHeight = Math.max(shelfHeight, size.height);
  }
  return { width, height: y + shelfHeight };
}

/** Cells are numbered column by column; senders take the first free from the left, receivers from the right. */
function freeCell(island: IslandBox, receiver: boolean): number {
  const { columns, rows, cells } = island;
  for (let step = 0; step < columns; step++) {
    const column = receiver ? columns - 1 - step : step;
    for (let row = 0; row < rows; row++) {
      const cell = column * rows + row;
      if (cells[cell] === undefined) return cell;
    }
  }
  throw new Error(`island ${island.key} has no free cell`);
}
export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** The box around the islands that hold cards. */
export function layoutBounds(islands: Iterable<IslandBox>): Bounds | undefined {
  let bounds: Bounds | undefined;
  for (const island of islands) {
    if (!island.cells.some((cell) => cell !== undefined)) continue;
    bounds = {
      minX: Math.min(bounds?.minX ?? Infinity, island.x),
      minY: Math.min(bounds?.minY ?? Infinity, island.y),
      maxX: Math.max(bounds?.maxX ?? -Infinity, island.x + island.width),
      maxY: Math.max(bounds?.maxY ?? -Infinity, island.y + island.height),
    };
  }
  return bounds;
}

/** Scale and translation that fit `bounds` into a viewport with a margin, never zooming in past 1.5×. */
export function fitTransform(bounds: Bounds, viewport: { width: number; height: number }, margin = FIT_MARGIN): { k: number; x: number; y: number } {
  const width = Math.max(1, bounds.maxX - bounds.minX);
  const height = Math.max(1, bounds.maxY - bounds.minY);
  const k = Math.min(1.5, (viewport.width - 2 * margin) / width, (viewport.height - 2 * margin) / height);
  const scale = Math.max(0.02, k);
  return {
    k: scale,
    x: (viewport.width - width * scale) / 2 - bounds.minX * scale,
    y: (viewport.height - height * scale) / 2 - bounds.minY * scale,
  };
}
