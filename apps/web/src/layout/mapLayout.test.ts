import { describe, expect, it } from 'vitest';
import type { Card, Link } from '@tycho/servicemap';
import { FAR_ZOOM } from '../components/ServiceMapView/index.tsx';
import { card, link, syntheticMap } from '../testing/mapFixtures.ts';
import { EMPTY_LAYOUT, fitTransform, islandKeyOf, layoutBounds, layoutMap, type MapLayout } from './mapLayout.ts';

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

  it('keeps every card in its cell, and islands in their order, when cards arrive', () => {
    const first = layoutMap(EMPTY_LAYOUT, [card('default/a'), card('default/b'), card('other/c')], [link('default/a', 'default/b')]);
    const more = [card('default/a'), card('default/b'), card('other/c'), card('default/d'), card('zeta/e'), card('alpha/f')];
    const second = layoutMap(first, more, [link('default/a', 'default/b'), link('default/d', 'default/a')]);
    for (const id of ['default/a', 'default/b', 'other/c']) expect(slotOf(second, id)).toEqual(slotOf(first, id));
    expect(second.islandOrder).toEqual(['alpha', 'default', 'other', 'zeta']);
    expect(second.cards.size).toBe(6);
  });

  it('grows a full island in place, keeping its cards in their cells, and shifts the islands after it as whole blocks', () => {
    const viewport = { width: 1280, height: 390 };
    const first = layoutMap(EMPTY_LAYOUT, [card('default/a'), card('default/b'), card('other/c'), card('other/d')], [], { viewport });
    const capacity = first.islands.get('default')!.cells.length;
    const many = Array.from({ length: capacity + 3 }, (_, i) => card(`default/w${String(i).padStart(3, '0')}`));
    const second = layoutMap(first, [card('default/a'), card('default/b'), card('other/c'), card('other/d'), ...many], [], { viewport });
    expect(second.islandOrder).toEqual(['default', 'other']);
    expect(second.islands.get('default')!.cells.filter((cell) => cell !== undefined)).toHaveLength(capacity + 5);
    for (const id of ['default/a', 'default/b', 'other/c', 'other/d']) expect(slotOf(second, id)).toEqual(slotOf(first, id));
    expect(second.islands.get('other')).not.toMatchObject({ x: first.islands.get('other')!.x, y: first.islands.get('other')!.y });
    // `other` moved as a block: its two cards are as far apart as before.
    const offset = (layout: MapLayout) => ({ x: layout.cards.get('other/d')!.x - layout.cards.get('other/c')!.x, y: layout.cards.get('other/d')!.y - layout.cards.get('other/c')!.y });
    expect(offset(second)).toEqual(offset(first));
    expectNoOverlaps(second);
  });

  it('keeps each namespace in exactly one island when its cards arrive one at a time', () => {
    const { cards, links } = labMap();
    for (const viewport of PANES) {
      const steps = arriveInSteps(cards, links, viewport, 1, [...cards].reverse());
      for (const layout of steps) {
        expect(new Set(layout.islandOrder).size).toBe(layout.islandOrder.length);
        for (const box of layout.cards.values()) expect(box.island).toBe(islandKeyOf(cards.find((c) => c.id === box.id)!));
      }
      expect(steps.at(-1)!.islandOrder).toEqual(['default', 'kube-system', '~world', '~cluster']);
    }
  });

  it('never moves a card inside its island, and never overlaps cards or islands, while the lab map fills up', () => {
    const { cards, links } = labMap();
    for (const viewport of PANES) {
      for (const order of arrivalOrders(cards)) {
        for (const step of [1, 2, 3, 5]) {
          const steps = arriveInSteps(cards, links, viewport, step, order);
          for (let i = 1; i < steps.length; i++) {
            for (const id of steps[i - 1]!.cards.keys()) expect(slotOf(steps[i]!, id)).toEqual(slotOf(steps[i - 1]!, id));
            expectNoOverlaps(steps[i]!);
          }
        }
      }
    }
  });

  it('frees the cells of cards that left and reuses them', () => {
    const first = layoutMap(EMPTY_LAYOUT, [card('default/a'), card('default/b')], []);
    const second = layoutMap(first, [card('default/b')], []);
    expect(second.cards.has('default/a')).toBe(false);
    const third = layoutMap(second, [card('default/b'), card('default/c')], []);
    expect(slotOf(third, 'default/c')).toEqual(slotOf(first, 'default/a'));
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
    expectNoOverlaps(layout);
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

/** The lab's map with one namespace chosen: that namespace and its peers' islands (kube-dns, world, the remote node). */
function labNamespaceMap() {
  const { cards, links } = labMap();
  const shown = cards.filter((c) => c.namespace === 'default' || ['kube-system/kube-dns', 'world:one.one.one.one', 'world:www.google.com', 'remote-node'].includes(c.id));
  return { cards: shown, links };
}

/** Map panes of the app: a 1440×900 window's, and a 1280×720 window's under the bar and the flows table. */
const PANES = [{ width: 1389, height: 530 }, { width: 1280, height: 390 }];

/** The layouts of a map whose cards arrive `step` at a time in `order`, as on a freshly started lab. */
function arriveInSteps(cards: readonly Card[], links: readonly Link[], viewport: { width: number; height: number }, step: number, order: readonly Card[] = cards): MapLayout[] {
  const layouts: MapLayout[] = [];
  let layout = EMPTY_LAYOUT;
  for (let count = Math.min(step, order.length); ; count = Math.min(count + step, order.length)) {
    layout = layoutMap(layout, order.slice(0, count), links, { viewport });
    layouts.push(layout);
    if (count === order.length) return layouts;
  }
}

/** Arrival orders: as listed, reversed, and a few fixed shuffles. */
function arrivalOrders(cards: readonly Card[]): Card[][] {
  const shuffled = (seed: number) => {
    let state = seed;
    const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    return cards.map((c) => ({ c, key: random() })).sort((a, b) => a.key - b.key).map(({ c }) => c);
  };
  return [[...cards], [...cards].reverse(), ...[1, 2, 3, 4, 5, 6, 7, 8].map(shuffled)];
}

/** A card's place: its island, cell, and offset from its island's corner. */
function slotOf(layout: MapLayout, id: string) {
  const box = layout.cards.get(id);
  if (!box) return undefined;
  const island = layout.islands.get(box.island)!;
  return { island: box.island, column: box.column, row: box.row, dx: box.x - island.x, dy: box.y - island.y, portRows: box.portRows };
}

function expectNoOverlaps(layout: MapLayout): void {
  const islands = [...layout.islands.values()];
  for (let i = 0; i < islands.length; i++) {
    for (let j = i + 1; j < islands.length; j++) {
      const [a, b] = [islands[i]!, islands[j]!];
      expect(a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height, `${a.key} and ${b.key} overlap`).toBe(false);
    }
  }
  for (const box of layout.cards.values()) {
    const island = layout.islands.get(box.island)!;
    expect(box.x >= island.x && box.y >= island.y && box.x + box.width <= island.x + island.width && box.y + box.height <= island.y + island.height, `${box.id} inside ${island.key}`).toBe(true);
  }
  const cells = new Set([...layout.cards.values()].map((box) => `${box.island} ${box.column} ${box.row}`));
  expect(cells.size).toBe(layout.cards.size);
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

  it('keeps the islands apart, and the cards in their cells, when the lab map grows in another viewport', () => {
    const { cards, links } = labMap();
    const first = layoutMap(EMPTY_LAYOUT, cards.slice(0, 8), links, { viewport: { width: 1500, height: 500 } });
    const second = layoutMap(first, [...cards, card('monitoring/prometheus', { ports: [{ port: 9090, protocol: 'TCP' as const }] })], links, { viewport: { width: 700, height: 700 } });
    for (const id of first.cards.keys()) expect(slotOf(second, id)).toEqual(slotOf(first, id));
    expectNoOverlaps(second);
  });

  for (const [name, map] of [['"All namespaces"', labMap], ['one namespace with its peers', labNamespaceMap]] as const) {
    for (const viewport of PANES) {
      it(`fits the lab map of ${name} in a ${viewport.width}×${viewport.height} pane above FAR_ZOOM, its cards coming all at once or a few at a time`, () => {
        const { cards, links } = map();
        const scale = (layout: MapLayout) => fitTransform(layoutBounds(layout.islands.values())!, viewport).k;
        expect(scale(layoutMap(EMPTY_LAYOUT, cards, links, { viewport }))).toBeGreaterThanOrEqual(LEGIBLE_SCALE);
        for (const order of arrivalOrders(cards)) {
          for (const step of [1, 2, 3, 5]) {
            const layout = arriveInSteps(cards, links, viewport, step, order).at(-1)!;
            expect(layout.cards.size).toBe(cards.length);
            expect(new Set(layout.islandOrder).size).toBe(layout.islandOrder.length);
            expect(scale(layout), `${step} at a time from ${order[0]!.id}`).toBeGreaterThanOrEqual(FAR_ZOOM);
          }
        }
      });
    }
  }
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
