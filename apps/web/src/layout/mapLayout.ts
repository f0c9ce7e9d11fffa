import type { Card, Link } from '@tycho/servicemap';

/**
 * Where the service map's cards go. Pure and deterministic: no DOM, the same
 * sequence of inputs gives the same layout, so it is tested and benchmarked
 * in Node.
 *
 * Namespaces are islands (cards outside namespaces gather in a `world` and a
 * `cluster` island). An island is a grid of equal cells sized when the
 * island is made, with room to grow by half; senders fill it from the left
 * column, receivers from the right, so arrows mostly run left to right.
 * Islands are packed on shelves, left to right, top to bottom.
 *
 * Stability: `layoutMap(previous, …)` never moves a card it placed before,
 * nor an island. New cards take free cells of their island; a full island
 * gets a continuation island in the next free spot. Cards that left free
 * their cells.
 */

export const CARD_WIDTH = 220;
export const CARD_HEADER_HEIGHT = 52;
export const PORT_ROW_HEIGHT = 18;
/** Ports shown on a card; more are summarised on the last row. */
export const MAX_PORT_ROWS = 4;
const CARD_PADDING = 8;
const CELL_WIDTH = CARD_WIDTH + 110;
const CELL_HEIGHT = CARD_HEADER_HEIGHT + MAX_PORT_ROWS * PORT_ROW_HEIGHT + CARD_PADDING + 36;
const ISLAND_PADDING = 28;
const ISLAND_TITLE_HEIGHT = 36;
const ISLAND_GAP = 90;
const MIN_ISLAND_CAPACITY = 6;
const MIN_SHELF_WIDTH = 2_400;

export interface CardBox {
  id: string;
  island: string;
  cell: number;
  x: number;
  y: number;
  width: number;
  height: number;
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
  /** Card id per cell, undefined when free. */
  cells: (string | undefined)[];
}

export interface MapLayout {
  cards: ReadonlyMap<string, CardBox>;
  islands: ReadonlyMap<string, IslandBox>;
  /** Islands in placement order. */
  islandOrder: readonly string[];
  shelf: { width: number; x: number; y: number; height: number };
}

export const EMPTY_LAYOUT: MapLayout = {
  cards: new Map(),
  islands: new Map(),
  islandOrder: [],
  shelf: { width: 0, x: 0, y: 0, height: 0 },
};

export function cardHeight(card: Pick<Card, 'ports'>): number {
  const rows = Math.min(card.ports.length, MAX_PORT_ROWS);
  return CARD_HEADER_HEIGHT + rows * PORT_ROW_HEIGHT + CARD_PADDING;
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

export function layoutMap(previous: MapLayout, cards: Iterable<Card>, links: Iterable<Link>): MapLayout {
  const present = new Map<string, Card>();
  for (const card of cards) present.set(card.id, card);
  const receivers = new Set<string>();
  for (const link of links) receivers.add(link.destination);

  const islands = new Map<string, IslandBox>();
  for (const [key, island] of previous.islands) islands.set(key, { ...island, cells: [...island.cells] });
  const islandOrder = [...previous.islandOrder];
  const shelf = { ...previous.shelf };
  const boxes = new Map<string, CardBox>();

  for (const [id, box] of previous.cards) {
    const card = present.get(id);
    const island = islands.get(box.island);
    if (!card) {
      if (island) island.cells[box.cell] = undefined;
      continue;
    }
    boxes.set(id, box.height === cardHeight(card) ? box : { ...box, height: cardHeight(card) });
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

  const pendingPerIsland = new Map<string, number>();
  for (const { island } of newcomers) pendingPerIsland.set(island, (pendingPerIsland.get(island) ?? 0) + 1);
  if (shelf.width === 0 && newcomers.length > 0) shelf.width = initialShelfWidth(pendingPerIsland);

  /** The island (or continuation) with a free cell for the next card of `baseKey`. */
  function islandWithRoom(baseKey: string): IslandBox {
    let key = baseKey;
    for (let n = 2; ; n++) {
      const island = islands.get(key);
      if (!island) break;
      if (island.cells.some((cell) => cell === undefined)) return island;
      key = `${baseKey}#${n}`;
    }
    const island = createIsland(key, baseKey, pendingPerIsland.get(baseKey) ?? 1, shelf);
    islands.set(key, island);
    islandOrder.push(key);
    return island;
  }

  for (const { card, island: baseKey, receiver } of newcomers) {
    const island = islandWithRoom(baseKey);
    const cell = freeCell(island, receiver);
    island.cells[cell] = card.id;
    pendingPerIsland.set(baseKey, (pendingPerIsland.get(baseKey) ?? 1) - 1);
    const column = Math.floor(cell / island.rows);
    const row = cell % island.rows;
    boxes.set(card.id, {
      id: card.id,
      island: island.key,
      cell,
      x: island.x + ISLAND_PADDING + column * CELL_WIDTH,
      y: island.y + ISLAND_TITLE_HEIGHT + row * CELL_HEIGHT,
      width: CARD_WIDTH,
      height: cardHeight(card),
    });
  }

  return { cards: boxes, islands, islandOrder, shelf };
}

/** Wide enough for a roughly square world at first; fixed afterwards so islands never move. */
function initialShelfWidth(pendingPerIsland: ReadonlyMap<string, number>): number {
  let area = 0;
  for (const count of pendingPerIsland.values()) {
    const { width, height } = islandSize(islandGrid(capacityFor(count)));
    area += (width + ISLAND_GAP) * (height + ISLAND_GAP);
  }
  return Math.max(MIN_SHELF_WIDTH, Math.ceil(Math.sqrt(area) * 1.6));
}

function capacityFor(cardCount: number): number {
  return Math.max(MIN_ISLAND_CAPACITY, Math.ceil(cardCount * 1.5));
}

/** Columns and rows for a capacity, about as wide as tall on screen, at least two columns. */
function islandGrid(capacity: number): { columns: number; rows: number } {
  const columns = Math.max(2, Math.round(Math.sqrt((capacity * CELL_HEIGHT) / CELL_WIDTH)));
  return { columns, rows: Math.ceil(capacity / columns) };
}

function islandSize(grid: { columns: number; rows: number }): { width: number; height: number } {
  return {
    width: ISLAND_PADDING * 2 + grid.columns * CELL_WIDTH - (CELL_WIDTH - CARD_WIDTH),
    height: ISLAND_TITLE_HEIGHT + grid.rows * CELL_HEIGHT,
  };
}

function createIsland(key: string, baseKey: string, cardCount: number, shelf: MapLayout['shelf']): IslandBox {
  const grid = islandGrid(capacityFor(cardCount));
  const { width, height } = islandSize(grid);
  if (shelf.x > 0 && shelf.x + width > shelf.width) {
    shelf.y += shelf.height + ISLAND_GAP;
    shelf.x = 0;
    shelf.height = 0;
  }
  const island: IslandBox = {
    key,
    title: islandTitleOf(baseKey),
    namespace: baseKey.startsWith('~') ? undefined : baseKey,
    x: shelf.x,
    y: shelf.y,
    width,
    height,
    columns: grid.columns,
    rows: grid.rows,
    cells: new Array<string | undefined>(grid.columns * grid.rows).fill(undefined),
  };
  shelf.x += width + ISLAND_GAP;
  shelf.height = Math.max(shelf.height, height);
  return island;
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

export function layoutBounds(layout: MapLayout): Bounds | undefined {
  let bounds: Bounds | undefined;
  for (const island of layout.islands.values()) {
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
export function fitTransform(bounds: Bounds, viewport: { width: number; height: number }, margin = 24): { k: number; x: number; y: number } {
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
