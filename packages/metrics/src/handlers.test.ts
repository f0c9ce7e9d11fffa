import { describe, expect, it } from 'vitest';
import { MonitorEventType } from '@tycho/flow';
import { createDnsHandler } from './dnsHandler.ts';
import { createDropHandler } from './dropHandler.ts';
import { createFlowHandler } from './flowHandler.ts';
import { createHttpHandler } from './httpHandler.ts';
import { createIcmpHandler } from './icmpHandler.ts';
import { CounterFamily, HistogramFamily, type MetricFamily } from './metricFamily.ts';
import type { MetricHandler } from './metricHandler.ts';
import { createPolicyHandler } from './policyHandler.ts';
import { createPortDistributionHandler } from './portDistributionHandler.ts';
import { createTcpHandler } from './tcpHandler.ts';
import { testFlow, testL7Flow } from './flows.fixture.ts';

const opts = (entries: Record<string, string> = {}) => new Map(Object.entries(entries));

/** Each series of a family as `{label: value, …, value: n}`. */
function seriesOf(handler: MetricHandler, name: string): Record<string, string | number>[] {
  const family: MetricFamily | undefined = handler.families.find((f) => f.name === name);
  if (!(family instanceof CounterFamily)) throw new Error(`${name} is not a counter of ${handler.name}`);
  return [...family.series.values()].map((series) => ({
    ...Object.fromEntries(family.labelNames.map((label, i) => [label, series.labelValues[i] ?? ''])),
    value: series.value,
  }));
}

describe('flow handler', () => {
  it('counts by protocol, event type, trace sub-type and verdict', () => {
    const handler = createFlowHandler(opts());
    handler.processFlow(testFlow());
    handler.processFlow(testFlow({ verdict: 'DROPPED', event_type: { type: MonitorEventType.DROP, sub_type: 133 } }));
    handler.processFlow(testL7Flow({ type: 'RESPONSE', http: { code: 200, method: 'GET' } }));
    expect(seriesOf(handler, 'hubble_flows_processed_total')).toEqual([
      { protocol: 'TCP', type: 'Trace', subtype: 'from-endpoint', verdict: 'FORWARDED', value: 1 },
      { protocol: 'TCP', type: 'Drop', subtype: '', verdict: 'DROPPED', value: 1 },
      { protocol: 'HTTP', type: 'L7', subtype: 'HTTP', verdict: 'FORWARDED', value: 1 },
    ]);
  });
});

describe('drop handler', () => {
  it('counts dropped flows by reason and protocol with pod contexts', () => {
    const handler = createDropHandler(opts({ sourceContext: 'pod', destinationContext: 'pod' }));
    handler.processFlow(testFlow());
    handler.processFlow(testFlow({ verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', event_type: { type: MonitorEventType.DROP } }));
    expect(seriesOf(handler, 'hubble_drop_total')).toEqual([
      {
        source: 'default/client-6d8f9c7b5-x2x7k',
        destination: 'default/echo-a-7c9b8d6f4-abcde',
        reason: 'POLICY_DENIED',
        protocol: 'TCP',
        value: 1,
      },
    ]);
  });
});

describe('tcp handler', () => {
  it('counts SYN, SYN-ACK, FIN and RST of forwarded flows only', () => {
    const handler = createTcpHandler(opts());
    handler.processFlow(testFlow());
    handler.processFlow(testFlow({ l4: { TCP: { flags: { SYN: true, ACK: true } } }, is_reply: true }));
    handler.processFlow(testFlow({ l4: { TCP: { flags: { FIN: true, RST: true, ACK: true } } } }));
    handler.processFlow(testFlow({ verdict: 'DROPPED' }));
    handler.processFlow(testFlow({ l4: { TCP: { flags: { ACK: true } } } }));
    expect(seriesOf(handler, 'hubble_tcp_flags_total')).toEqual([
      { flag: 'SYN', family: 'IPv4', value: 1 },
      { flag: 'SYN-ACK', family: 'IPv4', value: 1 },
      { flag: 'FIN', family: 'IPv4', value: 1 },
      { flag: 'RST', family: 'IPv4', value: 1 },
    ]);
  });
});

describe('port-distribution handler', () => {
  it('counts forwarded requests by destination port, not replies or drops', () => {
    const handler = createPortDistributionHandler(opts());
    handler.processFlow(testFlow());
    handler.processFlow(testFlow({ is_reply: true }));
    handler.processFlow(testFlow({ verdict: 'DROPPED' }));
    handler.processFlow(testFlow({ l4: { UDP: { source_port: 5353, destination_port: 53 } } }));
    handler.processFlow(testFlow({ l4: { ICMPv4: { type: 8 } } }));
    expect(seriesOf(handler, 'hubble_port_distribution_total')).toEqual([
      { protocol: 'TCP', port: '8080', value: 1 },
      { protocol: 'UDP', port: '53', value: 1 },
      { protocol: 'ICMPv4', port: '0', value: 1 },
    ]);
  });
});

describe('icmp handler', () => {
  it('counts ICMP messages by family and type with code', () => {
    const handler = createIcmpHandler(opts());
    handler.processFlow(testFlow({ l4: { ICMPv4: { type: 8 } } }));
    handler.processFlow(testFlow({ l4: { ICMPv4: { type: 3, code: 3 } } }));
    handler.processFlow(testFlow({ l4: { ICMPv6: { type: 128 } }, IP: { source: 'fd00::1', destination: 'fd00::2', ipVersion: 'IPv6' } }));
    handler.processFlow(testFlow());
    expect(seriesOf(handler, 'hubble_icmp_total')).toEqual([
      { family: 'IPv4', type: 'EchoRequest', value: 1 },
      { family: 'IPv4', type: 'DestinationUnreachable(Port)', value: 1 },
      { family: 'IPv6', type: 'EchoRequest', value: 1 },
    ]);
  });
});

describe('dns handler', () => {
  const query = { query: 'www.google.com.', qtypes: ['A'] };
  const toDns = { destination: { namespace: 'kube-system', pod_name: 'coredns-5d78c9869d-7xk2p' }, l4: { UDP: { destination_port: 53 } } };
  const fromDns = { source: toDns.destination, destination: testFlow().source, is_reply: true, l4: { UDP: { source_port: 53 } } };

  it('counts queries, responses by rcode and answer types with the pod-short destination and query', () => {
    const handler = createDnsHandler(opts({ query: '', ignoreAAAA: '', destinationContext: 'pod-short' }));
    handler.processFlow(testL7Flow({ type: 'REQUEST', dns: query }, toDns));
    handler.processFlow(testL7Flow({ type: 'RESPONSE', dns: { ...query, rcode: 0, ips: ['192.0.2.10'], rrtypes: ['A'] } }, fromDns));
    handler.processFlow(testL7Flow({ type: 'RESPONSE', dns: { ...query, rcode: 3 } }, fromDns));
    expect(seriesOf(handler, 'hubble_dns_queries_total')).toEqual([
      { destination: 'kube-system/coredns', rcode: '', qtypes: 'A', ips_returned: '0', query: 'www.google.com.', value: 1 },
    ]);
    expect(seriesOf(handler, 'hubble_dns_responses_total')).toEqual([
      { destination: 'default/client', rcode: 'No Error', qtypes: 'A', ips_returned: '1', query: 'www.google.com.', value: 1 },
      { destination: 'default/client', rcode: 'Non-Existent Domain', qtypes: 'A', ips_returned: '0', query: 'www.google.com.', value: 1 },
    ]);
    expect(seriesOf(handler, 'hubble_dns_response_types_total')).toEqual([
      { destination: 'default/client', type: 'A', qtypes: 'A', query: 'www.google.com.', value: 1 },
    ]);
  });

  it('counts a dropped query as Policy denied', () => {
    const handler = createDnsHandler(opts());
    handler.processFlow(testL7Flow({ type: 'REQUEST', dns: query }, { ...toDns, verdict: 'DROPPED' }));
    expect(seriesOf(handler, 'hubble_dns_queries_total')).toEqual([{ rcode: 'Policy denied', qtypes: 'A', ips_returned: '0', value: 1 }]);
  });

  it('skips AAAA-only flows with ignoreAAAA, not mixed ones', () => {
    const handler = createDnsHandler(opts({ ignoreAAAA: '' }));
    handler.processFlow(testL7Flow({ type: 'REQUEST', dns: { query: 'a.', qtypes: ['AAAA'] } }, toDns));
    handler.processFlow(testL7Flow({ type: 'REQUEST', dns: { query: 'a.', qtypes: ['A', 'AAAA'] } }, toDns));
    expect(seriesOf(handler, 'hubble_dns_queries_total')).toEqual([{ rcode: '', qtypes: 'A,AAAA', ips_returned: '0', value: 1 }]);
  });
});

describe('http handler', () => {
  it('counts requests and responses by reporter and observes latency in seconds', () => {
    const handler = createHttpHandler(opts());
    handler.processFlow(testL7Flow({ type: 'REQUEST', http: { method: 'GET', url: 'http://echo-a:8080/public', protocol: 'HTTP/1.1' } }));
    handler.processFlow(
      testL7Flow(
        { type: 'RESPONSE', latency_ns: 30_000_000, http: { code: 200, method: 'GET', protocol: 'HTTP/1.1' } },
        { traffic_direction: 'INGRESS', is_reply: true },
      ),
    );
    expect(seriesOf(handler, 'hubble_http_requests_total')).toEqual([{ method: 'GET', protocol: 'HTTP/1.1', reporter: 'client', value: 1 }]);
    expect(seriesOf(handler, 'hubble_http_responses_total')).toEqual([
      { method: 'GET', protocol: 'HTTP/1.1', status: '200', reporter: 'server', value: 1 },
    ]);
    const duration = handler.families.find((f) => f.name === 'hubble_http_request_duration_seconds');
    expect(duration).toBeInstanceOf(HistogramFamily);
    const [series] = (duration as HistogramFamily).series.values();
    expect(series?.labelValues).toEqual(['GET', 'server']);
    expect(series?.count).toBe(1);
    expect(series?.sum).toBeCloseTo(0.03);
    // 0.03 s falls in the 0.05 bucket (index 3 of the default buckets).
    expect(series?.bucketCounts.indexOf(1)).toBe(3);
  });
});

describe('policy verdict flows', () => {
  /** A policy verdict for the same SYN as testFlow's trace, as the agent makes it. */
  const verdictFlow = (overrides: Partial<Parameters<typeof testFlow>[0]> = {}) =>
    testFlow({ event_type: { type: MonitorEventType.POLICY_VERDICT, sub_type: 2 }, trace_observation_point: undefined, policy_match_type: 2, ...overrides });

  it('policy handler counts them by direction, match and action, lower-cased', () => {
    const handler = createPolicyHandler(opts());
    handler.processFlow(verdictFlow());
    handler.processFlow(verdictFlow());
    handler.processFlow(verdictFlow({ traffic_direction: 'INGRESS', event_type: { type: MonitorEventType.POLICY_VERDICT, sub_type: 1 }, policy_match_type: 4 }));
    handler.processFlow(testFlow());
    expect(seriesOf(handler, 'hubble_policy_verdicts_total')).toEqual([
      { direction: 'egress', match: 'l3-l4', action: 'forwarded', value: 2 },
      { direction: 'ingress', match: 'all', action: 'forwarded', value: 1 },
    ]);
  });

  it('the flow handler counts them as type PolicyVerdict', () => {
    const handler = createFlowHandler(opts());
    handler.processFlow(verdictFlow());
    expect(seriesOf(handler, 'hubble_flows_processed_total')).toEqual([
      { protocol: 'TCP', type: 'PolicyVerdict', subtype: '', verdict: 'FORWARDED', value: 1 },
    ]);
  });

  it('tcp, port-distribution and icmp count the trace of a connection, not its verdict again', () => {
    const handlers = [createTcpHandler(opts()), createPortDistributionHandler(opts()), createIcmpHandler(opts())];
    const icmp = { ICMPv4: { type: 8, code: 0 } };
    for (const handler of handlers) {
      handler.processFlow(testFlow());
      handler.processFlow(verdictFlow());
      handler.processFlow(testFlow({ l4: icmp }));
      handler.processFlow(verdictFlow({ l4: icmp }));
    }
    expect(seriesOf(handlers[0]!, 'hubble_tcp_flags_total')).toEqual([{ flag: 'SYN', family: 'IPv4', value: 1 }]);
    expect(seriesOf(handlers[1]!, 'hubble_port_distribution_total')).toEqual([
      { protocol: 'TCP', port: '8080', value: 1 },
      { protocol: 'ICMPv4', port: '0', value: 1 },
    ]);
    expect(seriesOf(handlers[2]!, 'hubble_icmp_total')).toEqual([{ family: 'IPv4', type: 'EchoRequest', value: 1 }]);
  });
});
