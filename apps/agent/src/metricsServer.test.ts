import { afterEach, describe, expect, it } from 'vitest';
import { MonitorEventType, type Flow } from '@tycho/flow';
import { createFlowMetrics } from '@tycho/metrics';
import { parseListenAddress, startMetricsServer } from './metricsServer.ts';
import { Observer } from './observer.ts';

const syn: Flow = {
  time: '2025-01-01T00:00:00Z',
  uuid: 'u1',
  verdict: 'FORWARDED',
  IP: { source: '10.244.0.10', destination: '10.244.1.20', ipVersion: 'IPv4' },
  l4: { TCP: { source_port: 40000, destination_port: 8080, flags: { SYN: true } } },
  Type: 'L3_L4',
  node_name: 'node-1',
  is_reply: false,
  event_type: { type: MonitorEventType.TRACE, sub_type: 5 },
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('parseListenAddress', () => {
  it.each([
    [':9965', { host: undefined, port: 9965 }],
    ['172.18.0.2:9965', { host: '172.18.0.2', port: 9965 }],
    ['[::1]:9965', { host: '::1', port: 9965 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ])('reads %s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each(['9965', ':0', ':70000', 'a:b:9965', 'host:'])('rejects %s', (text) => {
    expect(parseListenAddress(text)).toBeUndefined();
  });
});

describe('metrics server', () => {
  it('serves the flows and losses the observer saw at GET /metrics', async () => {
    const metrics = createFlowMetrics('flow,tcp,port-distribution');
    const observer = new Observer({
      nodeName: 'node-1',
      listener: { onFlow: (flow) => metrics.processFlow(flow), onLost: (source, count) => metrics.reportLost(source, count) },
    });
    observer.publish(syn);
    observer.reportLost('PERF_EVENT_RING_BUFFER', 2);
    const server = await startMetricsServer(metrics, { host: '127.0.0.1', port: 0 });
    close = server.close;

    const res = await fetch(`http://127.0.0.1:${server.address.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('hubble_flows_processed_total{protocol="TCP",type="Trace",subtype="from-endpoint",verdict="FORWARDED"} 1\n');
    expect(text).toContain('hubble_tcp_flags_total{flag="SYN",family="IPv4"} 1\n');
    expect(text).toContain('hubble_port_distribution_total{protocol="TCP",port="8080"} 1\n');
    expect(text).toContain('hubble_lost_events_total{source="perf_event_ring_buffer"} 2\n');
  });

  it('counts a policy verdict in hubble_policy_verdicts_total and as a PolicyVerdict flow, and its SYN once', async () => {
    const metrics = createFlowMetrics('flow,tcp,port-distribution,policy');
    const verdict: Flow = {
      ...syn, uuid: 'u2', event_type: { type: MonitorEventType.POLICY_VERDICT, sub_type: 2 }, traffic_direction: 'EGRESS', policy_match_type: 2,
    };
    metrics.processFlow(verdict);
    metrics.processFlow(syn);
    const server = await startMetricsServer(metrics, { host: '127.0.0.1', port: 0 });
    close = server.close;

    const text = await (await fetch(`http://127.0.0.1:${server.address.port}/metrics`)).text();
    expect(text).toContain('hubble_policy_verdicts_total{direction="egress",match="l3-l4",action="forwarded"} 1\n');
    expect(text).toContain('hubble_flows_processed_total{protocol="TCP",type="PolicyVerdict",subtype="",verdict="FORWARDED"} 1\n');
    expect(text).toContain('hubble_tcp_flags_total{flag="SYN",family="IPv4"} 1\n');
    expect(text).toContain('hubble_port_distribution_total{protocol="TCP",port="8080"} 1\n');
  });

  it('answers 404 elsewhere', async () => {
    const server = await startMetricsServer(createFlowMetrics('flow'), { host: '127.0.0.1', port: 0 });
    close = server.close;
    expect((await fetch(`http://127.0.0.1:${server.address.port}/`)).status).toBe(404);
  });
});
