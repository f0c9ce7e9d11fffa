import { contextLabelNames, contextLabelValues, parseContextOptions } from './contextOptions.ts';
import { flowProtocol } from './flowProtocol.ts';
import { CounterFamily } from './metricFamily.ts';
import { METRIC_PREFIX, type MetricHandler } from './metricHandler.ts';

/** `drop`: dropped flows by drop reason and protocol. */
export function createDropHandler(options: ReadonlyMap<string, string>): MetricHandler {
  const context = parseContextOptions(options);
  const drops = new CounterFamily(`${METRIC_PREFIX}drop_total`, 'Number of drops', [...contextLabelNames(context), 'reason', 'protocol']);
  return {
    name: 'drop',
    families: [drops],
    processFlow(flow) {
      if (flow.verdict !== 'DROPPED') return;
      drops.inc([...contextLabelValues(context, flow), flow.drop_reason_desc ?? 'DROP_REASON_UNKNOWN', flowProtocol(flow)]);
    },
  };
}
