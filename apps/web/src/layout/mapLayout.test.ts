import { describe, expect, it } from 'vitest';
import type { Card } from '@tycho/servicemap';
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

  it('grows a full island by rows when nothing is below it, without moving its cards', () => {
    const first = layoutMap(EMPTY_LAYOUT, [card('default/a'), card('default/b')], []);
    const capacity = first.islands.get('default')!.cells.length;
    const many = Array.from({ length: capacity + 3 }, (_, i) => card(`default/w${String(i).padStart(3, '0')}`));
    const second = layoutMap(first, [card('default/a'), card('default/b'), ...many], []);
    for (const id of ['default/a', 'default/b']) expect({ ...second.cards.get(id), cell: 0 }).toEqual({ ...first.cards.get(id), cell: 0 });
    expect(second.islandOrder).toEqual(['default']);
    expect(second.islands.get('default')!.cells.filter((cell) => cell !== undefined)).toHaveLength(capacity + 5);
  });

  it('opens a continuation island when a full island has another below it, without moving anything', () => {
    // A tall viewport stacks both islands in one column: `other` is below `default`.
    const first = layoutMap(EMPTY_LAYOUT, [card('default/a'), card('other/b')], [], { viewport: { width: 300, height: 1500 } });
    expect(first.islands.get('other')!.y).toBeGreaterThan(first.islands.get('default')!.y);
    const capacity = first.islands.get('default')!.cells.length;
    const many = Array.from({ length: capacity + 3 }, (_, i) => card(`default/w${String(i).padStart(3, '0')}`));
    const second = layoutMap(first, [card('default/a'), card('other/b'), ...many], []);
    expect(second.cards.get('default/a')).toEqual(first.cards.get('default/a'));
    expect(second.islandOrder).toEqual(['default', 'other', 'default#2']);
    expect(second.islands.get('default#2')?.title).toBe('default');
  });

  it('keeps the lab map legible when its cards arrive a few at a time', () => {
    const { cards, links } = labMap();
    const viewport = { width: 1440, height: 565 };
    let layout = EMPTY_LAYOUT;
    for (let count = 2; count <= cards.length; count += 3) layout = layoutMap(layout, cards.slice(0, count), links, { viewport });
    layout = layoutMap(layout, cards, links);
    expect(layout.cards.size).toBe(cards.length);
    expect(fitTransform(layoutBounds(layout.islands.values())!, viewport).k).toBeGreaterThanOrEqual(LEGIBLE_SCALE);
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

/** The lab's map with "All namespaces": the connectivity-check workloads, kube-dns, world and cluster cards. */
function labMap() {
  const tcp = (port: number) => ({ port, protocol: 'TCP' as const });
  const probes = ['pod-to-a', 'pod-to-external-1111', 'pod-to-a-allowed-cnp', 'pod-to-a-l3-denied-cnp', 'pod-to-external-fqdn-allow-google-cnp',
    'pod-to-b-intra-node', 'pod-to-b-multi-node-clusterip', 'pod-to-b-multi-node-headless', 'pod-to-b-multi-node-nodeport', 'pod-to-b-intra-node-nodeport'];
  const cards: Card[] = [
    ...probes.map((name) => card(`default/${name}`)),
    card('default/echo-a', { ports: [tcp(8080)] }),
    card('default/echo-b', { ports: [tcp(8080), tcp(31414)] }),
    card('kube-system/kube-dns', { kind: 'kube-dns', ports: [{ port: 53, protocol: 'UDP', l7: 'dns' }, tcp(53)] }),
    card('world:one.one.one.one', { ports: [tcp(443)] }),
    card('world:www.google.com', { ports: [tcp(443)] }),
    card('world'),
    card('host', { kind: 'host', ports: [tcp(31000)] }),
    card('remote-node', { kind: 'remote-node' }),
    card('unknown', { kind: 'unknown' }),
  ];
  const links = [
    ...probes.map((name) => link(`default/${name}`, 'kube-system/kube-dns', 53)),
    link('default/pod-to-a', 'default/echo-a'),
    link('default/pod-to-b-intra-node', 'default/echo-b'),
    link('default/pod-to-external-1111', 'world:one.one.one.one', 443),
  ];
  return { cards, links };
}

/** The scale at which a 14 px card title (styles.css) shows at least 8 px on screen. */
const LEGIBLE_SCALE = 8 / 14;

describe('layoutMap packing', () => {
  it('fits the lab map legibly in the map pane of a 1280×720 window (about 1280×390 under the bar and the flows table)', () => {
    const { cards, links } = labMap();
    const viewport = { width: 1280, height: 390 };
    const layout = layoutMap(EMPTY_LAYOUT, cards, links, { viewport });
    expect(layout.cards.size).toBe(cards.length);
    expect(fitTransform(layoutBounds(layout.islands.values())!, viewport).k).toBeGreaterThanOrEqual(LEGIBLE_SCALE);
  });

  it('packs the islands to the viewport aspect: a square pane gets a narrower map that it shows larger', () => {
    const { cards, links } = labMap();
    const viewport = { width: 700, height: 700 };
    const wide = layoutBounds(layoutMap(EMPTY_LAYOUT, cards, links, { viewport: { width: 2100, height: 700 } }).islands.values())!;
    const square = layoutBounds(layoutMap(EMPTY_LAYOUT, cards, links, { viewport }).islands.values())!;
    expect(square.maxX - square.minX).toBeLessThan(wide.maxX - wide.minX);
    expect(fitTransform(square, viewport).k).toBeGreaterThan(1.5 * fitTransform(wide, viewport).k);
  });

  it('makes an island only as tall as the port rows of its first cards need', () => {
    const { cards, links } = labMap();
    const layout = layoutMap(EMPTY_LAYOUT, cards, links);
    expect(layout.cards.get('default/echo-b')?.portRows).toBe(2);
    expect(layout.cards.get('world:www.google.com')?.portRows).toBe(1);
    const grown = layoutMap(layout, cards.map((c) => (c.id === 'world:www.google.com' ? { ...c, ports: [...c.ports, { port: 80, protocol: 'TCP' as const }] } : c)), links);
    expect(grown.cards.get('world:www.google.com')).toEqual(layout.cards.get('world:www.google.com'));
  });

  it('keeps the islands apart and in the same place when the lab map grows', () => {
    const { cards, links } = labMap();
    const first = layoutMap(EMPTY_LAYOUT, cards.slice(0, 8), links, { viewport: { width: 1500, height: 500 } });
    const second = layoutMap(first, [...cards, card('monitoring/prometheus', { ports: [{ port: 9090, protocol: 'TCP' as const }] })], links, { viewport: { width: 700, height: 700 } });
    for (const [id, box] of first.cards) expect(second.cards.get(id)).toEqual(box);
    const islands = [...second.islands.values()];
    for (let i = 0; i < islands.length; i++) {
      for (let j = i + 1; j < islands.length; j++) {
        const [a, b] = [islands[i]!, islands[j]!];
        expect(a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height).toBe(false);
      }
    }
  });
});

describe('fitTransform', () => {
  it('centres the bounds in the viewport', () => {
    const layout = layoutMap(EMPTY_LAYOUT, [card('default/a')], []);
    const bounds = layoutBounds(layout.islands.values())!;
    const t = fitTransform(bounds, { width: 2000, height: 1000 });
    expect(t.k).toBeLessThanOrEqual(1.5);
    expect(bounds.minX * t.k + t.x + (bounds.maxX * t.k + t.x)).toBeCloseTo(2000);
  });
});
