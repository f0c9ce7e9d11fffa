import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_URL, UNDERLAY } from '@tycho/lab';
import { run, tycho } from './labTestSupport.ts';

/*
 * Hubble metrics end to end: the lab's agents run with the seed's metrics
 * string and serve :9965 on their node addresses; the lab's Prometheus
 * (Debian's, inside tycho-underlay) scrapes them. Queries go to its HTTP API
 * from inside the underlay namespace, where it listens.
 */

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(query: string): Promise<PromSample[]> {
  const { stdout } = await run('nsenter', [
    `--net=/run/netns/${UNDERLAY.netns}`,
    'curl',
    '--silent',
    '--fail',
    '--max-time',
    '5',
    '--get',
    '--data-urlencode',
    `query=${query}`,
    `${PROMETHEUS_URL}/api/v1/query`,
  ]);
  const body = JSON.parse(stdout) as { status: string; data: { resultType: string; result: PromSample[] } };
  if (body.status !== 'success') throw new Error(`prometheus answered ${stdout}`);
  return body.data.result;
}

/**
 * Polls until the query's answer is non-empty and satisfies `complete`
 * (Prometheus scrapes every 5 s; the probes run every few seconds).
 */
async function answerTo(query: string, deadlineMs: number, complete: (result: PromSample[]) => boolean = () => true): Promise<PromSample[]> {
  let lastError = '';
  for (;;) {
    try {
      const result = await promQuery(query);
      if (result.length > 0 && complete(result)) return result;
      lastError = result.length === 0 ? 'empty answer' : `incomplete answer ${JSON.stringify(result)}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() > deadlineMs) throw new Error(`no answer to ${query} from ${PROMETHEUS_URL}: ${lastError}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

describe('lab Prometheus', () => {
  // Only a lab this file brought up is taken down: if `lab up` refuses because
  // someone's lab is running, that lab is left alone.
  let broughtUp = false;
  beforeAll(async () => {
    await tycho(['lab', 'up', '--detach']);
    broughtUp = true;
  }, 300_000);

  afterAll(async () => {
    if (broughtUp) await tycho(['lab', 'down']);
  }, 120_000);

  it('scrapes both agents', async () => {
    const up = await answerTo('up{job="hubble"} == 1', Date.now() + 90_000, (result) => result.length === 2);
    expect(up.map((sample) => sample.metric.node).sort()).toEqual(['node-1', 'node-2']);
  }, 120_000);

  it('answers hubble_flows_processed_total by verdict', async () => {
    const flows = await answerTo('sum by (verdict) (hubble_flows_processed_total)', Date.now() + 60_000);
    expect(flows.map((sample) => sample.metric.verdict)).toContain('FORWARDED');
  }, 90_000);

  it('answers hubble_tcp_flags_total{flag="SYN"}', async () => {
    const syn = await answerTo('hubble_tcp_flags_total{flag="SYN"}', Date.now() + 60_000);
    expect(syn[0]?.metric).toMatchObject({ flag: 'SYN', family: 'IPv4' });
  }, 90_000);

  it('answers hubble_port_distribution_total{port="8080"}', async () => {
    const port = await answerTo('hubble_port_distribution_total{port="8080"}', Date.now() + 60_000);
    expect(port[0]?.metric).toMatchObject({ protocol: 'TCP', port: '8080' });
  }, 90_000);

  it('answers hubble_dns_queries_total with the pod-short destination', async () => {
    const toCoreDns = (result: PromSample[]) => result.some((sample) => sample.metric.destination === 'kube-system/coredns');
    const queries = await answerTo('sum by (destination) (hubble_dns_queries_total)', Date.now() + 60_000, toCoreDns);
    expect(queries.map((sample) => sample.metric.destination)).toContain('kube-system/coredns');
  }, 90_000);

  it('answers hubble_http_responses_total{status="200"}', async () => {
    const responses = await answerTo('hubble_http_responses_total{status="200"}', Date.now() + 60_000);
    expect(responses[0]?.metric).toMatchObject({ method: 'GET', status: '200', protocol: 'HTTP/1.1' });
  }, 90_000);
});
