import { describe, expect, it } from 'vitest';
import type { CardBox } from '../../layout/mapLayout.ts';
import { inWindow, viewWindow, windowServes } from './cardWindow.ts';

const size = { width: 1000, height: 600 };

function box(x: number, y: number): CardBox {
  return { id: `c${x},${y}`, island: 'ns', column: 0, row: 0, x, y, width: 200, height: 100, portRows: 1 };
}

describe('viewWindow', () => {
  it('is the map area under the viewport, in map coordinates', () => {
    expect(viewWindow({ k: 2, x: -100, y: 50 }, size)).toEqual({ minX: 50, minY: -25, maxX: 550, maxY: 275, k: 2 });
  });

  it('grows by the margin, a fraction of the viewport, beyond each edge', () => {
    expect(viewWindow({ k: 1, x: 0, y: 0 }, size, 0.25)).toEqual({ minX: -250, minY: -150, maxX: 1250, maxY: 750, k: 1 });
  });
});

describe('windowServes', () => {
  const window = viewWindow({ k: 1, x: 0, y: 0 }, size, 0.25);

  it('serves a pan that stays within its margin', () => {
    expect(windowServes(window, { k: 1, x: -240, y: 140 }, size, 1.5)).toBe(true);
  });

  it('does not serve a pan past its margin', () => {
    expect(windowServes(window, { k: 1, x: -260, y: 0 }, size, 1.5)).toBe(false);
  });

  it('does not serve a view zoomed in or out past the scale limit, though it covers it', () => {
    expect(windowServes(window, { k: 1.4, x: -200, y: -120 }, size, 1.5)).toBe(true);
    expect(windowServes(window, { k: 1.6, x: -300, y: -180 }, size, 1.5)).toBe(false);
    expect(windowServes(viewWindow({ k: 1, x: 0, y: 0 }, size, 3), { k: 0.6, x: 0, y: 0 }, size, 1.5)).toBe(false);
  });
});

describe('inWindow', () => {
  const window = viewWindow({ k: 1, x: 0, y: 0 }, size);

  it('holds a card whose box meets the window, even at an edge', () => {
    expect(inWindow(box(500, 300), window)).toBe(true);
    expect(inWindow(box(-200, -100), window)).toBe(true);
    expect(inWindow(box(1000, 600), window)).toBe(true);
  });

  it('leaves out a card wholly outside it', () => {
    expect(inWindow(box(-201, 0), window)).toBe(false);
    expect(inWindow(box(0, 601), window)).toBe(false);
  });
});
