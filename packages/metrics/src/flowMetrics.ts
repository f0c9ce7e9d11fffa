import type { Flow, LostEventSource } from '@tycho/flow';
import { createDnsHandler } from './dnsHandler.ts';
import { createDropHandler } from './dropHandler.ts';
import { renderExposition } from './exposition.ts';
import { createFlowHandler } from './flowHandler.ts';
import { createHttpHandler } from './httpHandler.ts';
import { createIcmpHandler } from './icmpHandler.ts';
import { CounterFamily, type MetricFamily } from './metricFamily.ts';
import { METRIC_PREFIX, type MetricHandler } from './metricHandler.ts';
import { parseMetricOptions } from './metricOptions.ts';
import { createPolicyHandler } from './policyHandler.ts';
import { createPortDistributionHandler } from './portDistributionHandler.ts';
import { createTcpHandler } from './tcpHandler.ts';

/** The metric plugins Tycho has, by the name the option string uses. */
export const METRIC_PLUGINS: Readonly<Record<string, (options: ReadonlyMap<string, string>) => MetricHandler>> = {
  dns: createDnsHandler,
  drop: createDropHandler,
  tcp: createTcpHandler,
  flow: createFlowHandler,
  'port-distribution': createPortDistributionHandler,
  icmp: createIcmpHandler,
  http: createHttpHandler,
  policy: createPolicyHandler,
};

/**
 * The enabled handlers of a metrics option string
 * (`dns:query;ignoreAAAA,drop,tcp`), plus `hubble_lost_events_total`. Throws
 * Hubble's messages: `metric 'x' does not exist` for an unknown metric and
 * `unable to initialize metric 'drop': unknown context 'x'` for a bad option.
 */
export function createFlowMetrics(optionString: string) {
  const handlers = parseMetricOptions(optionString).map((spec) => {
    const create = Object.hasOwn(METRIC_PLUGINS, spec.name) ? METRIC_PLUGINS[spec.name] : undefined;
    if (!create) throw new Error(`metric '${spec.name}' does not exist`);
    try {
      return create(spec.options);
    } catch (err) {
      throw new Error(`unable to initialize metric '${spec.name}': ${(err as Error).message}`);
    }
  });
  const lostEvents = new CounterFamily(`${METRIC_PREFIX}lost_events_total`, 'Number of lost events', ['source']);
  const families: MetricFamily[] = [...handlers.flatMap((handler) => handler.families), lostEvents];

  return {
    handlers,
    families,
    processFlow(flow: Flow): void {
      for (const handler of handlers) handler.processFlow(flow);
    },
    /** Events lost before they became flows, by Hubble's lost-event source (label lower-cased). */
    reportLost(source: LostEventSource, count: number): void {
      if (count > 0) lostEvents.inc([source.toLowerCase()], count);
    },
    /** The Prometheus text exposition of every family. */
    render(): string {
      return renderExposition(families);
    },
  } as const;
}

export type FlowMetrics = ReturnType<typeof createFlowMetrics>;
