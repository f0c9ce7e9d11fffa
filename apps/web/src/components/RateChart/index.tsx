import { select } from 'd3-selection';
import { useEffect, useRef, useState } from 'react';
import { areaPath, formatClock, formatNumber, linearScale, linePath, niceTicks, timeTicks, type RateSeries } from '../../domain/chartGeometry.ts';

export interface RateChartProps {
  series: RateSeries[];
  /** Times of the first and last step. */
  startMs: number;
  endMs: number;
  /** The window's average flows/s per verdict, shown in the legend after the latest step's. */
  averages: Record<string, number>;
  label: string;
}

/** Width before the first measurement (and in tests, where nothing is laid out); then the chart's own width in CSS pixels, so text keeps its size. */
const INITIAL_WIDTH = 720;
const MIN_WIDTH = 320;
const HEIGHT = 220;
const MARGIN = { top: 10, right: 16, bottom: 24, left: 44 };

/** Flows/s by verdict over time: an area and a line per verdict, drawn by d3 into an SVG that React only mounts. */
export function RateChart({ series, startMs, endMs, averages, label }: RateChartProps) {
  const svgRef = useRef<SVGSVGElement>(null);
  const wrapperRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(INITIAL_WIDTH);

  useEffect(() => {
    const wrapper = wrapperRef.current;
    if (!wrapper || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      const measured = Math.round(entry?.contentRect.width ?? 0);
      if (measured > 0) setWidth(Math.max(MIN_WIDTH, measured));
    });
    observer.observe(wrapper);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const svgElement = svgRef.current;
    if (!svgElement) return;
    const svg = select(svgElement);
    const highest = Math.max(0, ...series.flatMap((s) => s.points.map((point) => point.perSecond)));
    const { max, ticks } = niceTicks(highest);
    const x = linearScale([startMs, endMs], [MARGIN.left, width - MARGIN.right]);
    const y = linearScale([0, max], [HEIGHT - MARGIN.bottom, MARGIN.top]);
    const withSeconds = endMs - startMs <= 15 * 60_000;

    svg.select('g.y-axis')
      .selectAll<SVGGElement, number>('g.tick')
      .data(ticks)
      .join((enter) => {
        const tick = enter.append('g').attr('class', 'tick');
        tick.append('line');
        tick.append('text');
        return tick;
      })
      .attr('transform', (value) => `translate(0,${y(value)})`)
      .call((tick) => tick.select('line').attr('x1', MARGIN.left).attr('x2', width - MARGIN.right))
      .call((tick) => tick.select('text').attr('x', MARGIN.left - 6).attr('dy', '0.32em').attr('text-anchor', 'end').text(formatNumber));

    svg.select('g.x-axis')
      .selectAll<SVGTextElement, number>('text')
      .data(timeTicks(startMs, endMs, 5))
      .join('text')
      .attr('x', (time) => x(time))
      .attr('y', HEIGHT - 6)
      .attr('text-anchor', (_time, i) => (i === 0 ? 'start' : i === 4 ? 'end' : 'middle'))
      .text((time) => formatClock(time, withSeconds));

    const baseline = y(0);
    svg.select('g.series')
      .selectAll<SVGGElement, RateSeries>('g.verdict-series')
      .data(series, (s) => s.verdict)
      .join((enter) => {
        const group = enter.append('g');
        group.append('path').attr('class', 'area');
        group.append('path').attr('class', 'line');
        return group;
      })
      .attr('class', (s) => `verdict-series verdict-${s.verdict}`)
      .attr('data-testid', 'rate-series')
      .attr('data-verdict', (s) => s.verdict)
      .each(function draw(s) {
        const points = s.points.map((point) => ({ x: x(point.timeMs), y: y(point.perSecond) }));
        const group = select(this);
        group.select('path.area').attr('d', areaPath(points, baseline));
        group.select('path.line').attr('d', linePath(points));
      });
  }, [series, startMs, endMs, width]);

  return (
    <div className="rate-chart" data-testid="rate-chart" ref={wrapperRef}>
      <svg ref={svgRef} viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-label={label} preserveAspectRatio="xMidYMid meet">
        <g className="y-axis" />
        <g className="x-axis" />
        <g className="series" />
      </svg>
      <ul className="chart-legend" aria-label="Flows per second by verdict: latest step and window average">
        {series.map((s) => {
          const latest = s.points.at(-1)?.perSecond ?? 0;
          const average = averages[s.verdict] ?? 0;
          return (
            <li key={s.verdict} className={`verdict-${s.verdict}`} data-testid="rate-legend" data-verdict={s.verdict} data-value={average} data-latest={latest}>
              <span className="swatch" aria-hidden="true" />
              {s.verdict} <strong>{formatNumber(latest)}</strong> flows/s <span className="muted">(avg {formatNumber(average)})</span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
