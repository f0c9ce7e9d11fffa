import type { CardBox } from '../../layout/mapLayout.ts';
import type { ViewTransform } from './mapCanvas.ts';

/**
 * The card window: on a large map the HTML card layer holds only the cards
 * in and near the view (the canvas draws every card under them). Every card
 * in the DOM costs each pan frame a hit test and a share of the layer's
 * re-layerization, and the reveal after a zoom-in styles and lays out the
 * cards near the view; with the window that is a few dozen cards, not
 * 2,000. The window is an area of the map, in map coordinates, moved when a
 * gesture ends and no earlier: a pan within its margin needs no new cards,
 * and the canvas's cards fill in beyond it until the gesture ends.
 */
export interface CardWindow {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  /** The scale the window was made for. */
  k: number;
}

/** The map area under a viewport of `size` at `transform`, grown by `margin` of the viewport's size beyond each edge. */
export function viewWindow(transform: ViewTransform, size: { width: number; height: number }, margin = 0): CardWindow {
  const { k, x, y } = transform;
  const dx = size.width * margin;
  const dy = size.height * margin;
  return { minX: (-x - dx) / k, minY: (-y - dy) / k, maxX: (size.width - x + dx) / k, maxY: (size.height - y + dy) / k, k };
}

/**
 * Whether `window` still serves the view at `transform`: it covers the
 * viewport, and was made for a scale within `maxScale` of it either way (a
 * window made further out holds many more cards than the view shows).
 */
export function windowServes(window: CardWindow, transform: ViewTransform, size: { width: number; height: number }, maxScale: number): boolean {
  const scale = transform.k / window.k;
  if (scale > maxScale || scale < 1 / maxScale) return false;
  const view = viewWindow(transform, size);
  return window.minX <= view.minX && window.minY <= view.minY && window.maxX >= view.maxX && window.maxY >= view.maxY;
}

/** Whether a card's box meets the window. */
export function inWindow(box: CardBox, window: CardWindow): boolean {
  return box.x <= window.maxX && box.x + box.width >= window.minX && box.y <= window.maxY && box.y + box.height >= window.minY;
}
