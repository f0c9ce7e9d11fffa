import type { Flow } from '@tycho/flow';
import { contextLabelNames, contextLabelValues, parseContextOptions } from './contextOptions.ts';
import { CounterFamily, HistogramFamily } from './metricFamily.ts';
import { METRIC_PREFIX, type MetricHandler } from './metricHandler.ts';

/** Who saw the exchange: the client's egress or the server's ingress. */
function reporter(flow: Flow): string {
  if (flow.traffic_direction === 'EGRESS') return 'client';
  if (flow.traffic_direction === 'INGRESS') return 'server';
  return 'unknown';
}

/** `http`: requests, responses by status, and request duration (from the response's latency). */
export function createHttpHandler(options: ReadonlyMap<string, string>): MetricHandler {
  const context = parseContextOptions(options);
  const contextNames = contextLabelNames(context);
  const requests = new CounterFamily(`${METRIC_PREFIX}http_requests_total`, 'Count of HTTP requests', [
    ...contextNames,
    'method',
    'protocol',
    'reporter',
  ]);
  const responses = new CounterFamily(`${METRIC_PREFIX}http_responses_total`, 'Count of HTTP responses', [
    ...contextNames,
    'method',
    'protocol',
    'status',
    'reporter',
  ]);
  const duration = new HistogramFamily(`${METRIC_PREFIX}http_request_duration_seconds`, 'Quantiles of HTTP request duration in seconds', [
    ...contextNames,
    'method',
    'reporter',
  ]);
  return {
    name: 'http',
    families: [requests, responses, duration],
    processFlow(flow) {
      const http = flow.l7?.http;
      const type = flow.l7?.type;
      if (!http || (type !== 'REQUEST' && type !== 'RESPONSE')) return;
      const values = contextLabelValues(context, flow);
      const method = http.method ?? '';
      if (type === 'REQUEST') {
        requests.inc([...values, method, http.protocol ?? '', reporter(flow)]);
        return;
      }
      responses.inc([...values, method, http.protocol ?? '', String(http.code ?? 0), reporter(flow)]);
      duration.observe([...values, method, reporter(flow)], (flow.l7?.latency_ns ?? 0) / 1e9);
    },
  };
}
