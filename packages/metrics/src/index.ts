export { createFlowMetrics, METRIC_PLUGINS, type FlowMetrics } from './flowMetrics.ts';
export { parseMetricOptions, type MetricSpec } from './metricOptions.ts';
export {
  parseContextOptions,
  contextLabelNames,
  contextLabelValues,
  shortPodName,
  CONTEXT_IDENTIFIERS,
  CONTEXT_LABELS,
  type ContextOptions,
  type ContextIdentifier,
  type ContextLabel,
} from './contextOptions.ts';
export { CounterFamily, HistogramFamily, DEFAULT_BUCKETS, type MetricFamily } from './metricFamily.ts';
export { renderExposition, EXPOSITION_CONTENT_TYPE } from './exposition.ts';
export { METRIC_PREFIX, type MetricHandler } from './metricHandler.ts';
export { DNS_RCODE_NAMES } from './dnsHandler.ts';
