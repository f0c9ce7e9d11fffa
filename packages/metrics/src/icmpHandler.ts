import { isPolicyVerdict } from '@tycho/flow';
import { contextLabelNames, contextLabelValues, parseContextOptions } from './contextOptions.ts';
import { icmpv4TypeCodeName, icmpv6TypeCodeName } from './icmpTypeCode.ts';
import { CounterFamily } from './metricFamily.ts';
import { METRIC_PREFIX, type MetricHandler } from './metricHandler.ts';

/** `icmp`: ICMP messages by family and type (with code); policy verdicts are skipped. */
export function createIcmpHandler(options: ReadonlyMap<string, string>): MetricHandler {
  const context = parseContextOptions(options);
  const icmp = new CounterFamily(`${METRIC_PREFIX}icmp_total`, 'Number of ICMP messages', ['family', 'type', ...contextLabelNames(context)]);
  return {
    name: 'icmp',
    families: [icmp],
    processFlow(flow) {
      const l4 = flow.l4;
      if (!l4 || (!l4.ICMPv4 && !l4.ICMPv6) || isPolicyVerdict(flow)) return;
      const values = contextLabelValues(context, flow);
      if (l4.ICMPv4) icmp.inc(['IPv4', icmpv4TypeCodeName(l4.ICMPv4.type ?? 0, l4.ICMPv4.code ?? 0), ...values]);
      if (l4.ICMPv6) icmp.inc(['IPv6', icmpv6TypeCodeName(l4.ICMPv6.type ?? 0, l4.ICMPv6.code ?? 0), ...values]);
    },
  };
}
