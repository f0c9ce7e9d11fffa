import { describe, expect, it } from 'vitest';
import { linkCurves } from '../../layout/linkGeometry.ts';
import { EMPTY_LAYOUT, layoutMap } from '../../layout/mapLayout.ts';
import { card, link } from '../../testing/mapFixtures.ts';
import { LINK_PALETTES } from '../../theme.ts';
import { CURVE_FIELDS, drawScene, packScene, type CanvasArea, type CanvasScene, type Context2D } from './mapCanvas.ts';

const cards = [card('default/a'), card('default/b', { ports: [{ port: 8080, protocol: 'TCP' }] }), card('default/c', { ports: [{ port: 8080, protocol: 'TCP' }] })];
const links = [link('default/a', 'default/b'), link('default/a', 'default/c', 8080, { verdicts: { DROPPED: 10 } })];

function scene(selection: CanvasScene['selection'] = { kind: 'none' }, withIslands = false): CanvasScene {
  const cardMap = new Map(cards.map((c) => [c.id, c]));
  const linkMap = new Map(links.map((l) => [l.id, l]));
  const layout = layoutMap(EMPTY_LAYOUT, cards, links);
  const related = selection.kind === 'link' ? { cards: new Set(['default/a', 'default/b']), links: new Set([selection.id]) } : undefined;
  const islands = withIslands ? layout.islandOrder.map((key) => layout.islands.get(key)!) : [];
  return { curves: linkCurves(layout, cardMap, linkMap.values()), links: linkMap, cards: cardMap, boxes: layout.cards, islands, related, selection, palette: LINK_PALETTES.light };
}

/** A 2D context that counts the shapes it is asked for. */
function countingContext() {
  const counts = { moveTo: 0, rect: 0, roundRect: 0, fillText: 0, strokeRect: 0 };
  const context = {
    canvas: { width: 100, height: 100 },
    setTransform() {}, clearRect() {}, fillRect() {}, setLineDash() {}, beginPath() {}, stroke() {}, fill() {}, closePath() {}, lineTo() {}, bezierCurveTo() {},
    strokeRect: () => counts.strokeRect++,
    moveTo: () => counts.moveTo++,
    rect: () => counts.rect++,
    roundRect: () => counts.roundRect++,
    fillText: () => counts.fillText++,
  };
  return { context: context as unknown as Context2D, counts };
}

const AREA: CanvasArea = { width: 1500, height: 1000, marginX: 250, marginY: 200, ratio: 1 };

describe('packScene', () => {
  it('packs every link with its curve and a stroke style per colour, width and dash', () => {
    const packed = packScene(scene());
    expect(packed.curveStyles.length).toBe(2);
    expect(packed.curves.length).toBe(2 * CURVE_FIELDS);
    const colours = [...packed.curveStyles].map((s) => packed.styles[s]!.colour);
    expect(colours).toEqual([LINK_PALETTES.light.verdict.forwarded, LINK_PALETTES.light.verdict.dropped]);
  });

  it('dims the cards and links a selection leaves out, and marks the selected card', () => {
    const selected = packScene(scene({ kind: 'link', id: links[0]!.id }));
    expect([...selected.curveStyles].map((s) => selected.styles[s]!.colour)).toEqual([LINK_PALETTES.light.verdict.forwarded, LINK_PALETTES.light.dimmed]);
    expect(selected.styles[selected.curveStyles[0]!]!.emphasised).toBe(true);
    expect([...selected.boxDimmed]).toEqual([0, 0, 1]);
    const cardSelected = packScene(scene({ kind: 'card', id: 'default/b' }));
    expect(cardSelected.titles[cardSelected.selectedBox]).toBe(cards[1]!.title);
  });
});

describe('drawScene', () => {
  const colours = { surface: '#fff', border: '#ccc', text: '#000', selected: '#00f', muted: '#777', accent: '#00f', island: '#eef', islandBorder: '#99f' };

  it('draws every link and card in the drawn area, and nothing outside it', () => {
    const packed = packScene(scene());
    const inView = countingContext();
    expect(drawScene(inView.context, AREA, { k: 1, x: 0, y: 0 }, packed, colours, true)).toBe(2 + 3);
    expect(inView.counts.rect).toBe(3);
    const away = countingContext();
    expect(drawScene(away.context, AREA, { k: 1, x: -100_000, y: -100_000 }, packed, colours, true)).toBe(0);
  });

  it('draws no cards without colours', () => {
    const { context, counts } = countingContext();
    expect(drawScene(context, AREA, { k: 1, x: 0, y: 0 }, packScene(scene()), undefined, false)).toBe(2);
    expect(counts.rect + counts.roundRect).toBe(0);
  });

  it('under the HTML cards, rounds the boxes and leaves out the dimmed cards, which the HTML ones let show through', () => {
    const { context, counts } = countingContext();
    drawScene(context, AREA, { k: 1, x: 0, y: 0 }, packScene(scene({ kind: 'link', id: links[0]!.id })), colours, false);
    expect(counts.roundRect).toBe(2);
    expect(counts.rect).toBe(0);
  });

  it('writes the namespace and port rows of a card wide enough on screen, as the HTML card words them', () => {
    const packed = packScene(scene());
    expect(packed.ports[packed.titles.indexOf('b')]).toEqual(['8080 · TCP']);
    const close = countingContext();
    drawScene(close.context, AREA, { k: 1, x: 0, y: 0 }, packed, colours, true);
    expect(close.counts.fillText).toBe(3 + 3 + 2);
    const far = countingContext();
    drawScene(far.context, AREA, { k: 0.3, x: 0, y: 0 }, packed, colours, true);
    expect(far.counts.fillText).toBe(3);
  });

  it('draws the islands it is given, each a rounded box with its title, and none it is not given', () => {
    const withIslands = packScene(scene({ kind: 'none' }, true));
    expect(withIslands.islandTitles).toEqual(['default']);
    const drawn = countingContext();
    drawScene(drawn.context, AREA, { k: 1, x: 0, y: 0 }, withIslands, colours, true);
    const without = countingContext();
    drawScene(without.context, AREA, { k: 1, x: 0, y: 0 }, packScene(scene()), colours, true);
    expect(drawn.counts.roundRect - without.counts.roundRect).toBe(1);
    expect(drawn.counts.fillText - without.counts.fillText).toBe(1);
  });

  it('rings the selected card only when the canvas cards are the ones shown', () => {
    const packed = packScene(scene({ kind: 'card', id: 'default/b' }));
    const far = countingContext();
    drawScene(far.context, AREA, { k: 1, x: 0, y: 0 }, packed, colours, true);
    expect(far.counts.strokeRect).toBe(1);
    const under = countingContext();
    drawScene(under.context, AREA, { k: 1, x: 0, y: 0 }, packed, colours, false);
    expect(under.counts.strokeRect).toBe(0);
  });
});
