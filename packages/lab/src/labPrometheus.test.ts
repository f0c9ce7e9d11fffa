import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { labPrometheusConfig, PROMETHEUS_DEPLOY_CONFIG } from './labPrometheus.ts';

describe('labPrometheusConfig', () => {
  it('scrapes both lab agents on :9965 every 5 s instead of discovering pods', () => {
    const config = labPrometheusConfig(readFileSync(PROMETHEUS_DEPLOY_CONFIG, 'utf8'));
    expect(config.global).toMatchObject({ scrape_interval: '5s', evaluation_interval: '5s' });
    expect(config.scrape_configs).toEqual([
      {
        job_name: 'hubble',
        metrics_path: '/metrics',
        static_configs: [
          { targets: ['172.18.0.2:9965'], labels: { node: 'node-1' } },
          { targets: ['172.18.0.3:9965'], labels: { node: 'node-2' } },
        ],
      },
    ]);
  });

  it('keeps the cluster form scraping tycho-agent pods on 9965', () => {
    const deploy = yaml.load(readFileSync(PROMETHEUS_DEPLOY_CONFIG, 'utf8')) as { scrape_configs: Record<string, unknown>[] };
    expect(deploy.scrape_configs[0]).toMatchObject({ job_name: 'hubble', kubernetes_sd_configs: [{ role: 'pod' }] });
    expect(JSON.stringify(deploy.scrape_configs[0])).toContain('"regex":"9965"');
  });

  it('names the file when the hubble job is missing', () => {
    expect(() => labPrometheusConfig('scrape_configs: []')).toThrow(/has no scrape config with job_name: hubble/);
  });
});
