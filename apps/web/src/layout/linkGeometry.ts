import type { Card, Link } from '@tycho/servicemap';
import { CARD_HEADER_HEIGHT, MAX_PORT_ROWS, PORT_ROW_HEIGHT, type MapLayout } from './mapLayout.ts';

/**
 * Arrows from a sender card to the receiving port row of a destination card,
 * as cubic Bézier curves, with bounding boxes for culling and a hit test.
 * Pure: the canvas only strokes what this computes.
 */
export interface LinkCurve {
  id: string;
  x1: number;
  y1: number;
  c1x: number;
  c1y: number;
  c2x: number;
  c2y: number;
  x2: number;
  y2: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** The y of a port's row on a card showing `portRows` rows, relative to the card's top; ports past the shown rows share the last row. */
export function portRowOffset(card: Pick<Card, 'ports'>, port: number, protocol: string, portRows = MAX_PORT_ROWS): number {
  const index = card.ports.findIndex((p) => p.port === port && p.protocol === protocol);
  if (index < 0 || portRows < 1) return CARD_HEADER_HEIGHT / 2;
  return CARD_HEADER_HEIGHT + Math.min(index, portRows - 1) * PORT_ROW_HEIGHT + PORT_ROW_HEIGHT / 2;
}

export function linkCurves(layout: MapLayout, cards: ReadonlyMap<string, Card>, links: Iterable<Link>): LinkCurve[] {
  const curves: LinkCurve[] = [];
  for (const link of links) {
    const from = layout.cards.get(link.source);
    const to = layout.cards.get(link.destination);
    const toCard = cards.get(link.destination);
    if (!from || !to || !toCard) continue;
    const x2 = to.x;
    const y2 = to.y + portRowOffset(toCard, link.port, link.protocol, to.portRows);
    const leavesRight = from.x + from.width <= x2;
    const x1 = leavesRight ? from.x + from.width : from.x;
    const y1 = from.y + CARD_HEADER_HEIGHT / 2;
    const pull = Math.max(50, Math.abs(x2 - x1) / 2);
    const c1x = leavesRight ? x1 + pull : x1 - pull;
    const c2x = x2 - pull;
    curves.push({
      id: link.id,
      x1, y1, c1x, c1y: y1, c2x, c2y: y2, x2, y2,
      minX: Math.min(x1, c1x, c2x, x2),
      minY: Math.min(y1, y2),
      maxX: Math.max(x1, c1x, c2x, x2),
      maxY: Math.max(y1, y2),
    });
  }
  return curves;
}

function pointOnCurve(c: LinkCurve, t: number): [number, number] {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const d = 3 * u * t * t;
  const e = t * t * t;
  return [a * c.x1 + b * c.c1x + d * c.c2x + e * c.x2, a * c.y1 + b * c.c1y + d * c.c2y + e * c.y2];
}

function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSquared = dx * dx + dy * dy;
  const t = lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / lengthSquared));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

const HIT_SAMPLES = 16;

/** The curve nearest to a map point within `tolerance` map units, if any. */
export function hitTestLink(curves: readonly LinkCurve[], x: number, y: number, tolerance: number): LinkCurve | undefined {
  let best: LinkCurve | undefined;
  let bestDistance = tolerance;
  for (const curve of curves) {
    if (x < curve.minX - tolerance || x > curve.maxX + tolerance || y < curve.minY - tolerance || y > curve.maxY + tolerance) continue;
    let [ax, ay] = pointOnCurve(curve, 0);
    for (let i = 1; i <= HIT_SAMPLES; i++) {
      const [bx, by] = pointOnCurve(curve, i / HIT_SAMPLES);
      const distance = distanceToSegment(x, y, ax, ay, bx, by);
      if (distance <= bestDistance) {
        bestDistance = distance;
        best = curve;
      }
      ax = bx;
      ay = by;
    }
  }
  return best;
}

/** Stroke width for a link's rate: 1.5 px when idle, growing with log(rate), at most 7 px. */
export function linkWidth(flowsPerSecond: number): number {
  return Math.min(7, 1.5 + Math.log2(1 + flowsPerSecond * 4));
}
