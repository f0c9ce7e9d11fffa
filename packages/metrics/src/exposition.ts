import type { MetricFamily } from './metricFamily.ts';

/** The content type of Prometheus' text exposition format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelSet(names: readonly string[], values: readonly string[], extra?: string): string {
  const pairs = names.map((name, i) => `${name}="${escapeLabelValue(values[i] ?? '')}"`);
  if (extra) pairs.push(extra);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Renders families in Prometheus' text format (version 0.0.4); families without series are left out. */
export function renderExposition(families: Iterable<MetricFamily>): string {
  const lines: string[] = [];
  for (const family of families) {
    if (family.series.size === 0) continue;
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === 'counter') {
      for (const series of family.series.values()) {
        lines.push(`${family.name}${labelSet(family.labelNames, series.labelValues)} ${formatNumber(series.value)}`);
      }
      continue;
    }
    for (const series of family.series.values()) {
      let cumulative = 0;
      family.buckets.forEach((bound, i) => {
        cumulative += series.bucketCounts[i] ?? 0;
        lines.push(`${family.name}_bucket${labelSet(family.labelNames, series.labelValues, `le="${formatNumber(bound)}"`)} ${cumulative}`);
      });
      lines.push(`${family.name}_bucket${labelSet(family.labelNames, series.labelValues, 'le="+Inf"')} ${series.count}`);
      lines.push(`${family.name}_sum${labelSet(family.labelNames, series.labelValues)} ${formatNumber(series.sum)}`);
      lines.push(`${family.name}_count${labelSet(family.labelNames, series.labelValues)} ${series.count}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
