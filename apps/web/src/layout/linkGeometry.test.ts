import { describe, expect, it } from 'vitest';
import { card, link } from '../testing/mapFixtures.ts';
import { hitTestLink, linkCurves, linkWidth, portRowOffset } from './linkGeometry.ts';
import { CARD_HEADER_HEIGHT, EMPTY_LAYOUT, PORT_ROW_HEIGHT, layoutMap } from './mapLayout.ts';

const client = card('default/pod-to-a');
const server = card('default/echo-a', { ports: [{ port: 80, protocol: 'TCP' }, { port: 8080, protocol: 'TCP' }] });
const ab = link(client.id, server.id, 8080);
const cards = new Map([client, server].map((c) => [c.id, c]));
const layout = layoutMap(EMPTY_LAYOUT, [client, server], [ab]);

describe('linkCurves', () => {
  it('runs from the sender to the row of the destination port', () => {
    const [curve] = linkCurves(layout, cards, [ab]);
    const to = layout.cards.get(server.id)!;
    expect(curve).toMatchObject({ id: ab.id, x2: to.x, y2: to.y + CARD_HEADER_HEIGHT + PORT_ROW_HEIGHT * 1.5 });
    expect(portRowOffset(server, 9999, 'TCP')).toBe(CARD_HEADER_HEIGHT / 2);
  });

  it('skips links whose cards are not laid out', () => {
    expect(linkCurves(layout, cards, [link(client.id, 'default/gone')])).toEqual([]);
  });
});

describe('hitTestLink', () => {
  it('finds the link under a point near its curve, and nothing far away', () => {
    const curves = linkCurves(layout, cards, [ab]);
    const curve = curves[0]!;
    expect(hitTestLink(curves, curve.x2 - 1, curve.y2, 4)?.id).toBe(ab.id);
    expect(hitTestLink(curves, curve.x2, curve.y2 + 500, 4)).toBeUndefined();
  });
});

describe('linkWidth', () => {
  it('grows with the rate and stays within bounds', () => {
    expect(linkWidth(0)).toBe(1.5);
    expect(linkWidth(10)).toBeGreaterThan(linkWidth(1));
    expect(linkWidth(1e6)).toBe(7);
  });
});
