import { describe, expect, it } from 'vitest';
import { card, link, syntheticMap } from '../testing/mapFixtures.ts';
import { EMPTY_LAYOUT, fitTransform, islandKeyOf, layoutBounds, layoutMap, type CardBox } from './mapLayout.ts';

function overlaps(a: CardBox, b: CardBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe('layoutMap', () => {
  it('puts each namespace in its own island and cards outside namespaces in world / cluster islands', () => {
    const cards = [card('default/pod-to-a'), card('default/echo-a'), card('kube-system/coredns', { kind: 'kube-dns' }), card('world'), card('host', { kind: 'host' })];
    const layout = layoutMap(EMPTY_LAYOUT, cards, []);
    expect(layout.islandOrder).toEqual(['default', 'kube-system', '~world', '~cluster']);
    expect(layout.cards.get('default/echo-a')?.island).toBe('default');
    expect(islandKeyOf(cards[4]!)).toBe('~cluster');
  });

  it('places senders to the left of receivers', () => {
    const layout = layoutMap(EMPTY_LAYOUT, [card('default/pod-to-a'), card('default/echo-a')], [link('default/pod-to-a', 'default/echo-a')]);
    expect(layout.cards.get('default/pod-to-a')!.x).toBeLessThan(layout.cards.get('default/echo-a')!.x);
  });

  it('keeps existing cards and islands where they are when cards arrive', () => {
    const first = layoutMap(EMPTY_LAYOUT, [card('default/a'), card('default/b'), card('other/c')], [link('default/a', 'default/b')]);
    const more = [card('default/a'), card('default/b'), card('other/c'), card('default/d'), card('zeta/e'), card('alpha/f')];
    const second = layoutMap(first, more, [link('default/a', 'default/b'), link('default/d', 'default/a')]);
    for (const id of ['default/a', 'default/b', 'other/c']) expect(second.cards.get(id)).toEqual(first.cards.get(id));
    for (const key of first.islandOrder) expect({ ...second.islands.get(key), cells: [] }).toEqual({ ...first.islands.get(key), cells: [] });
    expect(second.cards.size).toBe(6);
  });

  it('opens a continuation island when an island is full, without moving anything', () => {
    const first = layoutMap(EMPTY_LAYOUT, [card('default/a')], []);
    const capacity = first.islands.get('default')!.cells.length;
    const many = Array.from({ length: capacity + 3 }, (_, i) => card(`default/w${String(i).padStart(3, '0')}`));
    const second = layoutMap(first, [card('default/a'), ...many], []);
    expect(second.cards.get('default/a')).toEqual(first.cards.get('default/a'));
    expect(second.islandOrder).toEqual(['default', 'default#2']);
    expect(second.islands.get('default#2')?.title).toBe('default');
  });

  it('frees the cells of cards that left and reuses them', () => {
    const first = layoutMap(EMPTY_LAYOUT, [card('default/a'), card('default/b')], []);
    const second = layoutMap(first, [card('default/b')], []);
    expect(second.cards.has('default/a')).toBe(false);
    const third = layoutMap(second, [card('default/b'), card('default/c')], []);
    expect(third.cards.get('default/c')?.cell).toBe(first.cards.get('default/a')?.cell);
  });

  it('is deterministic: the same inputs in any order give the same layout', () => {
    const { cards, links } = syntheticMap(300, 12, 900);
    const a = layoutMap(EMPTY_LAYOUT, cards, links);
    const b = layoutMap(EMPTY_LAYOUT, [...cards].reverse(), [...links].reverse());
    expect([...b.cards.values()].sort((x, y) => x.id.localeCompare(y.id))).toEqual([...a.cards.values()].sort((x, y) => x.id.localeCompare(y.id)));
  });

  it('lays out 2,000 cards and 10,000 links without overlapping cards or islands', () => {
    const { cards, links } = syntheticMap(2_000, 60, 10_000);
    const layout = layoutMap(EMPTY_LAYOUT, cards, links);
    expect(layout.cards.size).toBe(2_000);
    const boxes = [...layout.cards.values()];
    const islands = [...layout.islands.values()];
    for (let i = 0; i < islands.length; i++) {
      for (let j = i + 1; j < islands.length; j++) {
        const [a, b] = [islands[i]!, islands[j]!];
        expect(a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height).toBe(false);
      }
    }
    const island = boxes.filter((box) => box.island === boxes[0]!.island);
    for (let i = 0; i < island.length; i++) for (let j = i + 1; j < island.length; j++) expect(overlaps(island[i]!, island[j]!)).toBe(false);
  });

  it('returns the previous layout object when nothing changed', () => {
    const cards = [card('default/a')];
    const first = layoutMap(EMPTY_LAYOUT, cards, []);
    expect(layoutMap(first, cards, [])).toBe(first);
  });
});

describe('fitTransform', () => {
  it('centres the bounds in the viewport', () => {
    const layout = layoutMap(EMPTY_LAYOUT, [card('default/a')], []);
    const bounds = layoutBounds(layout)!;
    const t = fitTransform(bounds, { width: 2000, height: 1000 });
    expect(t.k).toBeLessThanOrEqual(1.5);
    expect(bounds.minX * t.k + t.x + (bounds.maxX * t.k + t.x)).toBeCloseTo(2000);
  });
});
