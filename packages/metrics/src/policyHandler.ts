import { isPolicyVerdict, policyMatchTypeName } from '@tycho/flow';
import { contextLabelNames, contextLabelValues, parseContextOptions } from './contextOptions.ts';
import { CounterFamily } from './metricFamily.ts';
import { METRIC_PREFIX, type MetricHandler } from './metricHandler.ts';

/** `policy`: policy-verdict flows by direction, match type and action, lower-cased as Hubble labels them. */
export function createPolicyHandler(options: ReadonlyMap<string, string>): MetricHandler {
  const context = parseContextOptions(options);
  const verdicts = new CounterFamily(`${METRIC_PREFIX}policy_verdicts_total`, 'Number of policy verdict events', [
    ...contextLabelNames(context),
    'direction',
    'match',
    'action',
  ]);
  return {
    name: 'policy',
    families: [verdicts],
    processFlow(flow) {
      if (!isPolicyVerdict(flow)) return;
      verdicts.inc([
        ...contextLabelValues(context, flow),
        (flow.traffic_direction ?? 'TRAFFIC_DIRECTION_UNKNOWN').toLowerCase(),
        policyMatchTypeName(flow.policy_match_type ?? 0).toLowerCase(),
        flow.verdict.toLowerCase(),
      ]);
    },
  };
}
