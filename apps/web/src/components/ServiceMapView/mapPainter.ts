import { deviceSize, drawScene, type CanvasArea, type CardColours, type PackedScene, type ViewTransform } from './mapCanvas.ts';
import type { PaintDone, PaintMessage } from './mapPaintWorker.ts';

/**
 * Who rasterises the map's canvas. With 10,000 links in view a drawing
 * costs 50–200 ms of software raster, far more than a frame: in a browser
 * it is made by a worker (mapPaintWorker.ts) on an OffscreenCanvas, and the
 * finished bitmap is handed to the page's canvas (`bitmaprenderer`) in one
 * task, so the main thread never waits for it and the new drawing appears
 * in the same frame as the CSS transform that places it. Where there is no
 * worker (jsdom) the page's canvas is drawn at once.
 *
 * Requests made while a drawing is under way are merged: when it is done
 * only the latest one is drawn.
 */
export interface PaintRequest {
  transform: ViewTransform;
  area: CanvasArea;
  /** The theme's card colours: the cards are drawn too (see drawScene). */
  cards: CardColours | undefined;
  /** The HTML cards are hidden: the canvas's cards are the ones the user sees. */
  far: boolean;
}

/** What the canvas shows once a request is painted. */
export interface Painted {
  transform: ViewTransform;
  far: boolean;
  /** The drawing has the cards. */
  cards: boolean;
  /** Links and cards drawn (those in the drawn area). */
  items: number;
  /** The scene's links and cards (all of them, drawn or culled). */
  sceneLinks: number;
  sceneCards: number;
}

export interface MapPainter {
  setScene(scene: PackedScene): void;
  paint(request: PaintRequest): void;
  /** True while a drawing is being made off the main thread. */
  busy(): boolean;
  dispose(): void;
}

export function createMapPainter(canvas: HTMLCanvasElement, onPainted: (painted: Painted) => void): MapPainter {
  const bitmaps = typeof Worker !== 'undefined' && typeof OffscreenCanvas !== 'undefined' ? canvas.getContext('bitmaprenderer') : null;
  return bitmaps ? workerPainter(bitmaps, onPainted) : pagePainter(canvas, onPainted);
}

/** Draws on the page's canvas in the caller's task. */
function pagePainter(canvas: HTMLCanvasElement, onPainted: (painted: Painted) => void): MapPainter {
  let scene: PackedScene | undefined;
  return {
    setScene(next) {
      scene = next;
    },
    paint(request) {
      if (!scene) return;
      const context = canvas.getContext('2d');
      const items = context ? drawScene(context, request.area, request.transform, scene, request.cards, request.far) : 0;
      onPainted(painted(request, items, scene));
    },
    busy: () => false,
    dispose() {},
  };
}

/**
 * Draws in a worker. Should the worker fail to start (a blocked script, an
 * old browser), drawing moves to an OffscreenCanvas on the page, whose
 * bitmap goes to the same `bitmaprenderer` context.
 */
function workerPainter(bitmaps: ImageBitmapRenderingContext, onPainted: (painted: Painted) => void): MapPainter {
  let worker: Worker | undefined = new Worker(new URL('./mapPaintWorker.ts', import.meta.url), { type: 'module' });
  let scene: PackedScene | undefined;
  let inFlight: PaintRequest | undefined;
  let pending: PaintRequest | undefined;
  /** The last request sent for the current scene: asking for the same drawing again is a no-op. */
  let lastSent: PaintRequest | undefined;
  let fallback: OffscreenCanvas | undefined;

  function send(request: PaintRequest): void {
    inFlight = request;
    lastSent = request;
    if (worker) {
      const message: PaintMessage = { kind: 'paint', ...request };
      worker.postMessage(message);
      return;
    }
    // The fallback still answers in a later task, like the worker.
    setTimeout(() => {
      if (!scene) return;
      const { width, height } = deviceSize(request.area);
      fallback ??= new OffscreenCanvas(width, height);
      if (fallback.width !== width || fallback.height !== height) Object.assign(fallback, { width, height });
      const context = fallback.getContext('2d');
      const items = context ? drawScene(context, request.area, request.transform, scene, request.cards, request.far) : 0;
      done({ kind: 'painted', bitmap: fallback.transferToImageBitmap(), items });
    }, 0);
  }

  function done(message: PaintDone): void {
    const request = inFlight;
    inFlight = undefined;
    if (request && scene) {
      bitmaps.transferFromImageBitmap(message.bitmap);
      onPainted(painted(request, message.items, scene));
    } else {
      message.bitmap.close();
    }
    if (pending) {
      const next = pending;
      pending = undefined;
      send(next);
    }
  }

  worker.onmessage = (event: MessageEvent<PaintDone>) => done(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    worker?.terminate();
    worker = undefined;
    const lost = inFlight;
    inFlight = undefined;
    if (lost && !pending) pending = lost;
    if (pending) {
      const next = pending;
      pending = undefined;
      send(next);
    }
  };

  return {
    setScene(next) {
      scene = next;
      lastSent = undefined;
      if (worker) {
        const message: PaintMessage = { kind: 'scene', scene: next };
        worker.postMessage(message);
      }
    },
    paint(request) {
      if (!scene) return;
      if (lastSent && sameRequest(lastSent, request) && (!pending || sameRequest(pending, request))) {
        pending = undefined;
        return;
      }
      if (inFlight) pending = request;
      else send(request);
    },
    busy: () => inFlight !== undefined,
    dispose() {
      worker?.terminate();
      worker = undefined;
      inFlight = undefined;
      pending = undefined;
    },
  };
}

function sameRequest(a: PaintRequest, b: PaintRequest): boolean {
  const { transform: t, area: r } = a;
  const { transform: u, area: q } = b;
  return t.k === u.k && t.x === u.x && t.y === u.y && a.cards === b.cards && a.far === b.far &&
    r.width === q.width && r.height === q.height && r.marginX === q.marginX && r.marginY === q.marginY && r.ratio === q.ratio;
}

function painted(request: PaintRequest, items: number, scene: PackedScene): Painted {
  return { transform: request.transform, far: request.far, cards: request.cards !== undefined, items, sceneLinks: scene.curveStyles.length, sceneCards: scene.titles.length };
}
