import { deviceSize, drawScene, type CanvasArea, type CardColours, type PackedScene, type ViewTransform } from './mapCanvas.ts';

/**
 * The map's painting worker (see mapPainter.ts): keeps the last scene it was
 * sent, draws each paint request on its OffscreenCanvas and sends the
 * bitmap back (transferred, not copied).
 */
export type PaintMessage =
  | { kind: 'scene'; scene: PackedScene }
  | { kind: 'paint'; transform: ViewTransform; area: CanvasArea; cards: CardColours | undefined; far: boolean };

export interface PaintDone {
  kind: 'painted';
  bitmap: ImageBitmap;
  items: number;
}

/** The parts of the worker's global scope used here (the web app's TypeScript lib is the DOM's, not the worker's). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<PaintMessage>) => void) | null;
  postMessage(message: PaintDone, transfer: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
let scene: PackedScene | undefined;
let canvas: OffscreenCanvas | undefined;

scope.onmessage = (event) => {
  const message = event.data;
  if (message.kind === 'scene') {
    scene = message.scene;
    return;
  }
  const { width, height } = deviceSize(message.area);
  canvas ??= new OffscreenCanvas(width, height);
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const context = canvas.getContext('2d');
  const items = context && scene ? drawScene(context, message.area, message.transform, scene, message.cards, message.far) : 0;
  const bitmap = canvas.transferToImageBitmap();
  scope.postMessage({ kind: 'painted', bitmap, items }, [bitmap]);
};
