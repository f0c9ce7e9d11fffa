import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { packScene, type CanvasArea } from './mapCanvas.ts';
import { createMapPainter, type PaintRequest, type Painted } from './mapPainter.ts';
import type { PaintMessage } from './mapPaintWorker.ts';
import { LINK_PALETTES } from '../../theme.ts';

/** Stands in for the painting worker: keeps what it was sent; the test answers for it. */
class FakeWorker {
  static last: FakeWorker | undefined;
  readonly sent: PaintMessage[] = [];
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: { preventDefault(): void }) => void) | null = null;
  terminated = false;
  constructor() {
    FakeWorker.last = this;
  }
  postMessage(message: PaintMessage): void {
    this.sent.push(message);
  }
  terminate(): void {
    this.terminated = true;
  }
  paints(): PaintMessage[] {
    return this.sent.filter((m) => m.kind === 'paint');
  }
  answer(items: number): void {
    this.onmessage?.({ data: { kind: 'painted', bitmap: { close() {} }, items } });
  }
}

class FakeOffscreenCanvas {
  constructor(
    public width: number,
    public height: number,
  ) {}
  getContext(): null {
    return null;
  }
  transferToImageBitmap() {
    return { close() {} };
  }
}

const AREA: CanvasArea = { width: 150, height: 100, marginX: 25, marginY: 20, ratio: 1 };
const SCENE = packScene({ curves: [], links: new Map(), cards: new Map(), boxes: new Map(), islands: [], related: undefined, selection: { kind: 'none' }, palette: LINK_PALETTES.light });
const request = (k: number): PaintRequest => ({ transform: { k, x: 0, y: 0 }, area: AREA, cards: undefined, far: k < 0.5 });

function pageCanvas() {
  const shown: unknown[] = [];
  const bitmaps = { transferFromImageBitmap: (bitmap: unknown) => shown.push(bitmap) };
  const canvas = { getContext: (kind: string) => (kind === 'bitmaprenderer' ? bitmaps : null) } as unknown as HTMLCanvasElement;
  return { canvas, shown };
}

describe('createMapPainter with a worker', () => {
  beforeEach(() => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('OffscreenCanvas', FakeOffscreenCanvas);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('sends the scene, then each request, and shows the bitmap it gets back with the transform it was drawn for', () => {
    const { canvas, shown } = pageCanvas();
    const painted: Painted[] = [];
    const painter = createMapPainter(canvas, (p) => painted.push(p));
    painter.setScene(SCENE);
    painter.paint(request(1));
    const worker = FakeWorker.last!;
    expect(worker.sent.map((m) => m.kind)).toEqual(['scene', 'paint']);
    expect(painter.busy()).toBe(true);
    worker.answer(7);
    expect(shown).toHaveLength(1);
    expect(painted).toEqual([{ transform: { k: 1, x: 0, y: 0 }, far: false, cards: false, items: 7, sceneLinks: 0, sceneCards: 0 }]);
    expect(painter.busy()).toBe(false);
  });

  it('merges the requests made while a drawing is under way: only the latest is drawn next', () => {
    const { canvas } = pageCanvas();
    const painted: Painted[] = [];
    const painter = createMapPainter(canvas, (p) => painted.push(p));
    painter.setScene(SCENE);
    painter.paint(request(1));
    painter.paint(request(2));
    painter.paint(request(3));
    const worker = FakeWorker.last!;
    expect(worker.paints()).toHaveLength(1);
    worker.answer(1);
    expect(worker.paints().map((m) => (m.kind === 'paint' ? m.transform.k : 0))).toEqual([1, 3]);
    worker.answer(1);
    expect(painted.map((p) => p.transform.k)).toEqual([1, 3]);
  });

  it('does not draw the same request twice for the same scene, and draws it again for a new scene', () => {
    const { canvas } = pageCanvas();
    const painter = createMapPainter(canvas, () => {});
    painter.setScene(SCENE);
    painter.paint(request(1));
    const worker = FakeWorker.last!;
    worker.answer(1);
    painter.paint(request(1));
    expect(worker.paints()).toHaveLength(1);
    painter.setScene(SCENE);
    painter.paint(request(1));
    expect(worker.paints()).toHaveLength(2);
  });

  it('draws on the page when the worker fails, and still shows the drawing', async () => {
    const { canvas, shown } = pageCanvas();
    const painted: Painted[] = [];
    const painter = createMapPainter(canvas, (p) => painted.push(p));
    painter.setScene(SCENE);
    painter.paint(request(0.1));
    const worker = FakeWorker.last!;
    worker.onerror?.({ preventDefault() {} });
    expect(worker.terminated).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(shown).toHaveLength(1);
    expect(painted.map((p) => [p.transform.k, p.far])).toEqual([[0.1, true]]);
  });
});

describe('createMapPainter without a worker', () => {
  it('draws on the page canvas at once', () => {
    const getContext = vi.fn(() => null);
    const painted: Painted[] = [];
    const painter = createMapPainter({ getContext } as unknown as HTMLCanvasElement, (p) => painted.push(p));
    painter.setScene(SCENE);
    painter.paint(request(1));
    expect(getContext).toHaveBeenCalledWith('2d');
    expect(painted).toHaveLength(1);
    expect(painter.busy()).toBe(false);
  });
});
