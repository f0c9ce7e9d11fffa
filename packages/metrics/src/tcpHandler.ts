import { isPolicyVerdict } from '@tycho/flow';
import { contextLabelNames, contextLabelValues, parseContextOptions } from './contextOptions.ts';
import { CounterFamily } from './metricFamily.ts';
import { METRIC_PREFIX, type MetricHandler } from './metricHandler.ts';

/** `tcp`: FIN, SYN, SYN-ACK and RST seen on forwarded flows, by IP family (policy verdicts repeat a trace's SYN: skipped). */
export function createTcpHandler(options: ReadonlyMap<string, string>): MetricHandler {
  const context = parseContextOptions(options);
  const tcpFlags = new CounterFamily(`${METRIC_PREFIX}tcp_flags_total`, 'TCP flag occurrences', ['flag', 'family', ...contextLabelNames(context)]);
  return {
    name: 'tcp',
    families: [tcpFlags],
    processFlow(flow) {
      const flags = flow.l4?.TCP?.flags;
      if (flow.verdict !== 'FORWARDED' || !flow.IP || !flags || isPolicyVerdict(flow)) return;
      const labels = ['', flow.IP.ipVersion, ...contextLabelValues(context, flow)];
      const count = (flag: string) => {
        labels[0] = flag;
        tcpFlags.inc(labels);
      };
      if (flags.FIN) count('FIN');
      if (flags.SYN) count(flags.ACK ? 'SYN-ACK' : 'SYN');
      if (flags.RST) count('RST');
    },
  };
}
