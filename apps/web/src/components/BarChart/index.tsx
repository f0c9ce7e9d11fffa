import { select } from 'd3-selection';
import { useEffect, useRef } from 'react';
import { formatNumber, linearScale } from '../../domain/chartGeometry.ts';

export interface Bar {
  label: string;
  value: number;
  /** A CSS class giving the bar its colour (see metrics.css): `tone-good`, `tone-bad`, `tone-warn`, `tone-info`. */
  tone: 'tone-good' | 'tone-bad' | 'tone-warn' | 'tone-info';
}

export interface BarChartProps {
  bars: Bar[];
  label: string;
  /** Said instead of the chart when there are no bars. */
  emptyText: string;
}

const WIDTH = 420;
const ROW = 26;
const LABEL_WIDTH = 190;
const VALUE_WIDTH = 56;

/** Horizontal bars, one row per label, drawn by d3 into an SVG that React only mounts. */
export function BarChart({ bars, label, emptyText }: BarChartProps) {
  const svgRef = useRef<SVGSVGElement>(null);
  const height = Math.max(1, bars.length) * ROW;

  useEffect(() => {
    const svgElement = svgRef.current;
    if (!svgElement) return;
    const highest = Math.max(0, ...bars.map((bar) => bar.value));
    const width = linearScale([0, highest || 1], [0, WIDTH - LABEL_WIDTH - VALUE_WIDTH]);
    select(svgElement)
      .selectAll<SVGGElement, Bar>('g.bar')
      .data(bars, (bar) => bar.label)
      .join((enter) => {
        const row = enter.append('g');
        row.append('title');
        row.append('text').attr('class', 'bar-label');
        row.append('rect').attr('class', 'bar-track');
        row.append('rect').attr('class', 'bar-value');
        row.append('text').attr('class', 'bar-count');
        return row;
      })
      .attr('class', (bar) => `bar ${bar.tone}`)
      .attr('data-testid', 'bar')
      .attr('data-label', (bar) => bar.label)
      .attr('data-value', (bar) => bar.value)
      .attr('transform', (_bar, i) => `translate(0,${i * ROW})`)
      .each(function draw(bar) {
        const row = select(this);
        row.select('title').text(`${bar.label}: ${bar.value}`);
        row.select('text.bar-label').attr('x', 0).attr('y', ROW / 2).attr('dy', '0.32em').text(truncate(bar.label, 26));
        row.select('rect.bar-track').attr('x', LABEL_WIDTH).attr('y', 5).attr('height', ROW - 10).attr('width', WIDTH - LABEL_WIDTH - VALUE_WIDTH).attr('rx', 3);
        row.select('rect.bar-value').attr('x', LABEL_WIDTH).attr('y', 5).attr('height', ROW - 10).attr('width', Math.max(2, width(bar.value))).attr('rx', 3);
        row.select('text.bar-count').attr('x', WIDTH).attr('y', ROW / 2).attr('dy', '0.32em').attr('text-anchor', 'end').text(formatNumber(bar.value));
      });
  }, [bars]);

  if (bars.length === 0) return <p className="chart-empty muted">{emptyText}</p>;
  const summary = `${label}: ${bars.map((bar) => `${bar.label} ${bar.value}`).join(', ')}`;
  return <svg ref={svgRef} className="bar-chart" viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={summary} />;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
