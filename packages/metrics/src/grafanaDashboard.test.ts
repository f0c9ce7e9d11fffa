import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFlowMetrics } from './flowMetrics.ts';

const DASHBOARD = new URL('../../../deploy/grafana/tycho-dashboard.json', import.meta.url);

interface Panel {
  title: string;
  targets: { expr: string }[];
}

describe('deploy/grafana/tycho-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  const families = new Set(createFlowMetrics('dns,drop,tcp,flow,port-distribution,icmp,http').families.map((family) => family.name));

  it('queries only metrics the handlers produce', () => {
    const used = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => target.expr.match(/hubble_[a-z_]+/g) ?? []));
    const unknown = used.map((name) => name.replace(/_(bucket|sum|count)$/, '')).filter((name) => !families.has(name));
    expect(unknown).toEqual([]);
  });

  it('has the panels a Hubble user expects', () => {
    expect(dashboard.panels.map((panel) => panel.title)).toEqual(
      expect.arrayContaining(['Flows/s by verdict', 'Drops/s by reason', 'TCP flags/s', 'HTTP responses/s by status', 'HTTP request latency']),
    );
  });
});
