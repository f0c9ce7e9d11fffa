import { MonitorEventType, TRACE_SUB_TYPE_NAMES, type Flow } from '@tycho/flow';
import { contextLabelNames, contextLabelValues, parseContextOptions } from './contextOptions.ts';
import { flowProtocol } from './flowProtocol.ts';
import { CounterFamily } from './metricFamily.ts';
import { METRIC_PREFIX, type MetricHandler } from './metricHandler.ts';

function typeAndSubtype(flow: Flow): [string, string] {
  const { type, sub_type: subType = 0 } = flow.event_type;
  switch (type) {
    case MonitorEventType.L7:
      return ['L7', flow.l7?.dns ? 'DNS' : flow.l7?.http ? 'HTTP' : ''];
    case MonitorEventType.DROP:
      return ['Drop', ''];
    case MonitorEventType.CAPTURE:
      return ['Capture', ''];
    case MonitorEventType.TRACE:
      return ['Trace', TRACE_SUB_TYPE_NAMES[subType] ?? ''];
    case MonitorEventType.POLICY_VERDICT:
      return ['PolicyVerdict', ''];
    default:
      return ['Unknown', String(type)];
  }
}

/** `flow`: every flow by protocol, event type and sub-type, and verdict. */
export function createFlowHandler(options: ReadonlyMap<string, string>): MetricHandler {
  const context = parseContextOptions(options);
  const flows = new CounterFamily(`${METRIC_PREFIX}flows_processed_total`, 'Total number of flows processed', [
    'protocol',
    'type',
    'subtype',
    'verdict',
    ...contextLabelNames(context),
  ]);
  return {
    name: 'flow',
    families: [flows],
    processFlow(flow) {
      const [type, subtype] = typeAndSubtype(flow);
      flows.inc([flowProtocol(flow), type, subtype, flow.verdict, ...contextLabelValues(context, flow)]);
    },
  };
}
