import type { Card, Link } from '@tycho/servicemap';

/**
 * Where the service map's cards go. Pure and deterministic: no DOM, the same
 * sequence of inputs gives the same layout, so it is tested and benchmarked
 * in Node.
 *
 * Namespaces are islands (cards outside namespaces gather in a `world` and a
 * `cluster` island). An island is a grid of equal cells sized when the
 * island is made, with a little room to grow, and tall enough for as many
 * port rows as its first cards have (up to MAX_PORT_ROWS; a card that comes
 * later with more ports summarises the rest on its last row). Senders fill
 * it from the left column, receivers from the right, so arrows mostly run
 * left to right.
 *
 * Islands are stacked in columns, top to bottom, then left to right. The
 * first layout of a view picks the island grids' row count and the column
 * height that make the whole map fit the viewport at the largest
 * scale, so a small map (the lab's) is readable at its default fit.
 *
 * Stability: `layoutMap(previous, …)` never moves a card it placed before,
 * nor an island. New cards take free cells of their island; a full island
 * grows by a row when nothing is below it (cards arriving over a map's
 * first seconds fill their namespace's island, not a string of small
 * ones), else it gets a continuation island in the next free spot. Cards
 * that left free their cells.
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
/** Column heights tried: runs of up to this many consecutive islands. */
const MAX_RUN = 4;

export interface CardBox {
  id: string;
  island: string;
  cell: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Port rows the card shows: its island's. */
  portRows: number;
}

export interface IslandBox {
  key: string;
  /** The namespace, `world` or `cluster`; continuation islands repeat it. */
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
  /** Card id per cell, undefined when free. */
  cells: (string | undefined)[];
}

/**
 * Where the next island goes: islands stack down a column of `columnHeight`
 * from `y`, and a column that is full starts another to the right of `x +
 * columnWidth`. `rows` caps an island grid's rows. All zero until the first
 * cards arrive; fixed afterwards, so islands never move.
 */
export interface IslandPacking {
  rows: number;
  columnHeight: number;
  x: number;
  y: number;
  columnWidth: number;
}

export interface MapLayout {
  cards: ReadonlyMap<string, CardBox>;
  islands: ReadonlyMap<string, IslandBox>;
  /** Islands in placement order. */
  islandOrder: readonly string[];
  packing: IslandPacking;
}

export interface LayoutOptions {
  /** The size of the viewport the map is shown in (CSS px); used by a view's first layout. */
  viewport?: { width: number; height: number };
}

export const EMPTY_LAYOUT: MapLayout = {
  cards: new Map(),
  islands: new Map(),
  islandOrder: [],
  packing: { rows: 0, columnHeight: 0, x: 0, y: 0, columnWidth: 0 },
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

export function layoutMap(previous: MapLayout, cards: Iterable<Card>, links: Iterable<Link>, options: LayoutOptions = {}): MapLayout {
  const present = new Map<string, Card>();
  for (const card of cards) present.set(card.id, card);
  const receivers = new Set<string>();
  for (const link of links) receivers.add(link.destination);

  const islands = new Map<string, IslandBox>();
  for (const [key, island] of previous.islands) islands.set(key, { ...island, cells: [...island.cells] });
  const islandOrder = [...previous.islandOrder];
  const packing = { ...previous.packing };
  const boxes = new Map<string, CardBox>();

  for (const [id, box] of previous.cards) {
    const card = present.get(id);
    const island = islands.get(box.island);
    if (!card) {
      if (island) island.cells[box.cell] = undefined;
      continue;
    }
    const height = cardHeight(card, box.portRows);
    boxes.set(id, box.height === height ? box : { ...box, height });
  }

  const newcomers = [...present.values()]
    .filter((card) => !boxes.has(card.id))
    .map((card) => ({ card, island: islandKeyOf(card), receiver: receivers.has(card.id) }))
    .sort((a, b) =>
      compareIslandKeys(a.island, b.island) ||
      Number(a.receiver) - Number(b.receiver) ||
      compareStrings(a.card.title, b.card.title) ||
      compareStrings(a.card.id, b.card.id));
  if (newcomers.length === 0 && boxes.size === previous.cards.size) return previous;

  const pendingPerIsland = new Map<string, IslandDemand>();
  for (const { card, island } of newcomers) {
    const demand = pendingPerIsland.get(island) ?? { cards: 0, portRows: 1 };
    pendingPerIsland.set(island, { cards: demand.cards + 1, portRows: Math.min(MAX_PORT_ROWS, Math.max(demand.portRows, card.ports.length)) });
  }
  if (packing.columnHeight === 0 && newcomers.length > 0) {
    Object.assign(packing, choosePacking([...pendingPerIsland.values()], options.viewport ?? DEFAULT_VIEWPORT));
  }

  /** The island (or continuation) with a free cell for the next card of `baseKey`. */
  function islandWithRoom(baseKey: string): IslandBox {
    let key = baseKey;
    for (let n = 2; ; n++) {
      const island = islands.get(key);
      if (!island) break;
      if (island.cells.some((cell) => cell === undefined)) return island;
      if (growIsland(island, islands, boxes, packing)) return island;
      key = `${baseKey}#${n}`;
    }
    const island = createIsland(key, baseKey, pendingPerIsland.get(baseKey) ?? { cards: 1, portRows: 1 }, packing);
    islands.set(key, island);
    islandOrder.push(key);
    return island;
  }

  for (const { card, island: baseKey, receiver } of newcomers) {
    const island = islandWithRoom(baseKey);
    const cell = freeCell(island, receiver);
    island.cells[cell] = card.id;
    const demand = pendingPerIsland.get(baseKey);
    if (demand) demand.cards -= 1;
    const column = Math.floor(cell / island.rows);
    const row = cell % island.rows;
    boxes.set(card.id, {
      id: card.id,
      island: island.key,
      cell,
      x: island.x + ISLAND_PADDING + column * CELL_WIDTH,
      y: island.y + ISLAND_TITLE_HEIGHT + row * cellHeight(island.portRows),
      width: CARD_WIDTH,
      height: cardHeight(card, island.portRows),
      portRows: island.portRows,
    });
  }

  return { cards: boxes, islands, islandOrder, packing };
}

/** What an island is made for: its cards still to place, and the most port rows one of them needs. */
interface IslandDemand {
  cards: number;
  portRows: number;
}

/** Cells for an island made for `cardCount` cards: a quarter more, for cards that come later. */
function capacityFor(cardCount: number): number {
  return Math.max(1, cardCount) + Math.ceil(cardCount / 4);
}

/** Columns and rows for a capacity, at most `maxRows` rows and at least two columns (senders left, receivers right). */
function islandGrid(capacity: number, maxRows: number): { columns: number; rows: number } {
  const rows = Math.max(1, Math.min(maxRows, Math.ceil(capacity / 2)));
  return { columns: Math.max(2, Math.ceil(capacity / rows)), rows };
}

function islandSize(grid: { columns: number; rows: number }, portRows: number): { width: number; height: number } {
  return {
    width: ISLAND_PADDING * 2 + grid.columns * CELL_WIDTH - COLUMN_GAP,
    height: ISLAND_TITLE_HEIGHT + grid.rows * cellHeight(portRows),
  };
}

/**
 * The packing for a view's first islands (card counts in placement order):
 * tries each row cap and, for each, column heights that end on an island
 * boundary, and keeps the one whose bounds fit `viewport` at the largest
 * scale (ties: fewer rows, then lower columns, so the choice is
 * deterministic).
 */
function choosePacking(demands: readonly IslandDemand[], viewport: { width: number; height: number }): Pick<IslandPacking, 'rows' | 'columnHeight'> {
  const capacities = demands.map((demand) => capacityFor(demand.cards));
  const maxRows = Math.max(1, ...capacities.map((capacity) => Math.ceil(capacity / 2)));
  let best = { scale: -1, rows: 1, columnHeight: 0 };
  for (let rows = 1; rows <= maxRows; rows++) {
    const sizes = capacities.map((capacity, i) => islandSize(islandGrid(capacity, rows), demands[i]!.portRows));
    const tallest = Math.max(...sizes.map((size) => size.height));
    const heights = new Set<number>([tallest]);
    for (let start = 0; start < sizes.length; start++) {
      let height = -ISLAND_GAP;
      for (let end = start; end < Math.min(sizes.length, start + MAX_RUN); end++) {
        height += sizes[end]!.height + ISLAND_GAP;
        if (height > tallest) heights.add(height);
      }
    }
    for (const columnHeight of [...heights].sort((a, b) => a - b)) {
      const { width, height } = packedBounds(sizes, columnHeight);
      const scale = Math.min((viewport.width - 2 * FIT_MARGIN) / width, (viewport.height - 2 * FIT_MARGIN) / height);
      if (scale > best.scale * (1 + 1e-9)) best = { scale, rows, columnHeight };
    }
  }
  return { rows: best.rows, columnHeight: best.columnHeight };
}

/** Width and height of islands of `sizes` stacked in columns of `columnHeight`. */
function packedBounds(sizes: readonly { width: number; height: number }[], columnHeight: number): { width: number; height: number } {
  const packing: IslandPacking = { rows: 0, columnHeight, x: 0, y: 0, columnWidth: 0 };
  let width = 0;
  let height = 0;
  for (const size of sizes) {
    const { x, y } = placeIsland(packing, size);
    width = Math.max(width, x + size.width);
    height = Math.max(height, y + size.height);
  }
  return { width, height };
}

/** Where an island of `size` goes, advancing `packing`: down the current column, or at the top of a new one. */
function placeIsland(packing: IslandPacking, size: { width: number; height: number }): { x: number; y: number } {
  if (packing.y > 0 && packing.y + size.height > packing.columnHeight) {
    packing.x += packing.columnWidth + ISLAND_GAP;
    packing.y = 0;
    packing.columnWidth = 0;
  }
  const at = { x: packing.x, y: packing.y };
  packing.y += size.height + ISLAND_GAP;
  packing.columnWidth = Math.max(packing.columnWidth, size.width);
  return at;
}

function createIsland(key: string, baseKey: string, demand: IslandDemand, packing: IslandPacking): IslandBox {
  const grid = islandGrid(capacityFor(demand.cards), packing.rows);
  const { width, height } = islandSize(grid, demand.portRows);
  const { x, y } = placeIsland(packing, { width, height });
  return {
    key,
    title: islandTitleOf(baseKey),
    namespace: baseKey.startsWith('~') ? undefined : baseKey,
    x,
    y,
    width,
    height,
    columns: grid.columns,
    rows: grid.rows,
    portRows: demand.portRows,
    cells: new Array<string | undefined>(grid.columns * grid.rows).fill(undefined),
  };
}

/**
 * Adds a row to a full island when no other island is below it, keeping
 * every card where it is (cells are renumbered, positions stay); false when
 * something is in the way. The island's column then reaches further down.
 */
function growIsland(island: IslandBox, islands: ReadonlyMap<string, IslandBox>, boxes: Map<string, CardBox>, packing: IslandPacking): boolean {
  const rowHeight = cellHeight(island.portRows);
  const below = { x: island.x, y: island.y + island.height, width: island.width, height: rowHeight + ISLAND_GAP };
  for (const other of islands.values()) {
    if (other !== island && other.x < below.x + below.width && below.x < other.x + other.width && other.y < below.y + below.height && below.y < other.y + other.height) return false;
  }
  const rows = island.rows + 1;
  const cells = new Array<string | undefined>(island.columns * rows).fill(undefined);
  island.cells.forEach((id, cell) => {
    if (id === undefined) return;
    const moved = Math.floor(cell / island.rows) * rows + (cell % island.rows);
    cells[moved] = id;
    const box = boxes.get(id);
    if (box) boxes.set(id, { ...box, cell: moved });
  });
  if (packing.x === island.x && packing.y === island.y + island.height + ISLAND_GAP) packing.y += rowHeight;
  island.rows = rows;
  island.height += rowHeight;
  island.cells = cells;
  return true;
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
