/**
 * The arithmetic of the Metrics view's charts (scales, ticks, paths), kept
 * apart from the DOM so it can be tested without a browser; the chart
 * components hand its results to d3 to draw.
 */

export type Scale = (value: number) => number;

/** Maps `domain` linearly onto `range`; a domain of zero width maps everything to the range's start. */
export function linearScale([d0, d1]: readonly [number, number], [r0, r1]: readonly [number, number]): Scale {
  const width = d1 - d0;
  return width === 0 ? () => r0 : (value) => r0 + ((value - d0) / width) * (r1 - r0);
}

/** Round tick values from 0 up to a round maximum that covers `max` (1, 2 or 5 × 10^k apart). */
export function niceTicks(max: number, count = 4): { max: number; ticks: number[] } {
  if (!(max > 0) || !Number.isFinite(max)) return { max: 1, ticks: [0, 1] };
  const rough = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= rough) ?? 10 * magnitude;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let value = 0; value <= top + step / 2; value += step) ticks.push(roundTo(value, step));
  return { max: top, ticks };
}

/** Times for `count` evenly spaced x-axis labels between start and end (inclusive). */
export function timeTicks(startMs: number, endMs: number, count = 4): number[] {
  if (count < 2 || endMs <= startMs) return [startMs];
  return Array.from({ length: count }, (_, i) => startMs + ((endMs - startMs) * i) / (count - 1));
}

export interface Point {
  x: number;
  y: number;
}

/** An SVG path through the points. */
export function linePath(points: readonly Point[]): string {
  return points.map((point, i) => `${i === 0 ? 'M' : 'L'}${fixed(point.x)},${fixed(point.y)}`).join('');
}

/** An SVG path of the area between the points and the horizontal line at `baseline`. */
export function areaPath(points: readonly Point[], baseline: number): string {
  if (points.length === 0) return '';
  const first = points[0]!;
  const last = points[points.length - 1]!;
  return `${linePath(points)}L${fixed(last.x)},${fixed(baseline)}L${fixed(first.x)},${fixed(baseline)}Z`;
}

/** Verdicts in a stable order: FORWARDED, DROPPED, then the others alphabetically. */
export function verdictOrder(verdicts: Iterable<string>): string[] {
  const rank = (verdict: string) => (verdict === 'FORWARDED' ? 0 : verdict === 'DROPPED' ? 1 : 2);
  return [...new Set(verdicts)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export interface RateSeries {
  verdict: string;
  points: { timeMs: number; perSecond: number }[];
}

/** One series per verdict seen in the window, a point per step (0 where a step had none). */
export function rateSeries(perSecond: readonly { time: string; verdicts: Record<string, number> }[]): RateSeries[] {
  const verdicts = verdictOrder(perSecond.flatMap((point) => Object.keys(point.verdicts)));
  return verdicts.map((verdict) => ({
    verdict,
    points: perSecond.map((point) => ({ timeMs: Date.parse(point.time), perSecond: point.verdicts[verdict] ?? 0 })),
  }));
}

/** `0.4`, `12.5`, `1.2k`: a short number for axes and legends. */
export function formatNumber(value: number): string {
  if (value >= 10_000) return `${roundTo(value / 1000, 0.1)}k`;
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return String(roundTo(value, 0.1));
  return String(roundTo(value, 0.01));
}

/** `3.2 ms`, `850 µs`, `1.4 s`. */
export function formatMilliseconds(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms >= 1000) return `${roundTo(ms / 1000, 0.01)} s`;
  return `${roundTo(ms, ms >= 100 ? 1 : 0.1)} ms`;
}

/** Local `HH:MM:SS` (`HH:MM` with `withSeconds` false) for axis labels. */
export function formatClock(timeMs: number, withSeconds = true): string {
  const date = new Date(timeMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}${withSeconds ? `:${two(date.getSeconds())}` : ''}`;
}

function roundTo(value: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  return Number((Math.round(value / step) * step).toFixed(digits));
}

function fixed(value: number): string {
  return String(Math.round(value * 10) / 10);
}
