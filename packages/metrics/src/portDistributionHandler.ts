import { isPolicyVerdict } from '@tycho/flow';
import { contextLabelNames, contextLabelValues, parseContextOptions } from './contextOptions.ts';
import { CounterFamily } from './metricFamily.ts';
import { METRIC_PREFIX, type MetricHandler } from './metricHandler.ts';

/** `port-distribution`: forwarded, non-reply flows by destination port (ICMP counts as port 0); policy verdicts are skipped. */
export function createPortDistributionHandler(options: ReadonlyMap<string, string>): MetricHandler {
  const context = parseContextOptions(options);
  const ports = new CounterFamily(`${METRIC_PREFIX}port_distribution_total`, 'Numbers of packets distributed by destination port', [
    'protocol',
    'port',
    ...contextLabelNames(context),
  ]);
  return {
    name: 'port-distribution',
    families: [ports],
    processFlow(flow) {
      const l4 = flow.l4;
      if ((flow.verdict !== 'FORWARDED' && flow.verdict !== 'REDIRECTED') || !l4 || flow.is_reply === true || isPolicyVerdict(flow)) return;
      const values = contextLabelValues(context, flow);
      if (l4.TCP) ports.inc(['TCP', String(l4.TCP.destination_port ?? 0), ...values]);
      if (l4.UDP) ports.inc(['UDP', String(l4.UDP.destination_port ?? 0), ...values]);
      if (l4.ICMPv4) ports.inc(['ICMPv4', '0', ...values]);
      if (l4.ICMPv6) ports.inc(['ICMPv6', '0', ...values]);
    },
  };
}
