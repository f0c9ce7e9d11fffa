import { describe, expect, it } from 'vitest';
import { createFlowMetrics } from './flowMetrics.ts';
import { parseMetricOptions } from './metricOptions.ts';
import { testFlow, testL7Flow } from './flows.fixture.ts';

const SEED_METRICS =
  'dns:query;ignoreAAAA;destinationContext=pod-short,drop:sourceContext=pod;destinationContext=pod,tcp,flow,port-distribution,icmp,http';

describe('parseMetricOptions', () => {
  it('splits the seed string into metrics with their options', () => {
    const specs = parseMetricOptions(SEED_METRICS).map((spec) => ({ name: spec.name, options: Object.fromEntries(spec.options) }));
    expect(specs).toEqual([
      { name: 'dns', options: { query: '', ignoreAAAA: '', destinationContext: 'pod-short' } },
      { name: 'drop', options: { sourceContext: 'pod', destinationContext: 'pod' } },
      { name: 'tcp', options: {} },
      { name: 'flow', options: {} },
      { name: 'port-distribution', options: {} },
      { name: 'icmp', options: {} },
      { name: 'http', options: {} },
    ]);
  });

  it('keeps everything after the first = as the value and skips empty options', () => {
    const [spec] = parseMetricOptions('flow:sourceContext=a=b;;destinationContext=ip');
    expect(Object.fromEntries(spec?.options ?? [])).toEqual({ sourceContext: 'a=b', destinationContext: 'ip' });
  });

  it('accepts whitespace between metrics as Cilium’s ConfigMap writes them', () => {
    expect(parseMetricOptions('dns:query drop\ttcp').map((spec) => spec.name)).toEqual(['dns', 'drop', 'tcp']);
  });

  it('lets a later mention of a metric replace its options', () => {
    const specs = parseMetricOptions('flow:sourceContext=ip,tcp,flow');
    expect(specs.map((spec) => [spec.name, spec.options.size])).toEqual([
      ['flow', 0],
      ['tcp', 0],
    ]);
  });
});

describe('createFlowMetrics', () => {
  it('enables all seven handlers from the seed string', () => {
    expect(createFlowMetrics(SEED_METRICS).handlers.map((handler) => handler.name)).toEqual([
      'dns',
      'drop',
      'tcp',
      'flow',
      'port-distribution',
      'icmp',
      'http',
    ]);
  });

  it('rejects an unknown metric with Hubble’s message', () => {
    expect(() => createFlowMetrics('flow,kafkaa')).toThrow(new Error("metric 'kafkaa' does not exist"));
  });

  it('rejects an unknown context with Hubble’s message', () => {
    expect(() => createFlowMetrics('drop:sourceContext=pod|podd')).toThrow(
      new Error("unable to initialize metric 'drop': unknown context 'podd'"),
    );
  });

  it('rejects an empty context value as an unknown context', () => {
    expect(() => createFlowMetrics('tcp:destinationContext=')).toThrow(new Error("unable to initialize metric 'tcp': unknown context ''"));
  });

  it('rejects a labelsContext label Hubble does not know', () => {
    expect(() => createFlowMetrics('flow:labelsContext=source_pod source_node')).toThrow(
      new Error("metric 'source_node' does not exist"),
    );
    expect(() => createFlowMetrics('flow:labelsContext=source_node')).toThrow(
      new Error("unable to initialize metric 'flow': invalid labelsContext value: source_node"),
    );
  });

  it('feeds every flow to every handler and renders them in the text format', () => {
    const metrics = createFlowMetrics(SEED_METRICS);
    metrics.processFlow(testFlow());
    metrics.processFlow(testL7Flow({ type: 'REQUEST', dns: { query: 'echo-a.default.svc.cluster.local.', qtypes: ['A'] } }, {
      l4: { UDP: { source_port: 5353, destination_port: 53 } },
      destination: { namespace: 'kube-system', pod_name: 'coredns-5d78c9869d-7xk2p' },
    }));
    const text = metrics.render();
    expect(text).toContain('# TYPE hubble_flows_processed_total counter\n');
    expect(text).toContain('hubble_flows_processed_total{protocol="TCP",type="Trace",subtype="from-endpoint",verdict="FORWARDED"} 1\n');
    expect(text).toContain('hubble_tcp_flags_total{flag="SYN",family="IPv4"} 1\n');
    expect(text).toContain('hubble_port_distribution_total{protocol="TCP",port="8080"} 1\n');
    expect(text).toContain(
      'hubble_dns_queries_total{destination="kube-system/coredns",rcode="",qtypes="A",ips_returned="0",query="echo-a.default.svc.cluster.local."} 1\n',
    );
  });

  it('counts lost events by lower-cased source', () => {
    const metrics = createFlowMetrics('flow');
    metrics.reportLost('PERF_EVENT_RING_BUFFER', 3);
    metrics.reportLost('PERF_EVENT_RING_BUFFER', 2);
    expect(metrics.render()).toContain('hubble_lost_events_total{source="perf_event_ring_buffer"} 5\n');
  });

  it('renders nothing before the first flow', () => {
    expect(createFlowMetrics('flow,tcp').render()).toBe('');
  });
});
