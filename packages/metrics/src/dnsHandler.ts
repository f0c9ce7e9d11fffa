import { contextLabelNames, contextLabelValues, parseContextOptions } from './contextOptions.ts';
import { optionValue } from './metricOptions.ts';
import { CounterFamily } from './metricFamily.ts';
import { METRIC_PREFIX, type MetricHandler } from './metricHandler.ts';

/** DNS response codes as Hubble's `rcode` label spells them. */
export const DNS_RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'No Error',
  1: 'Format Error',
  2: 'Server Failure',
  3: 'Non-Existent Domain',
  4: 'Not Implemented',
  5: 'Query Refused',
  6: 'Name Exists when it should not',
  7: 'RR Set Exists when it should not',
  8: 'RR Set that should exist does not',
  9: 'Not Authorized',
  10: 'Name not contained in zone',
  11: 'DSO-TYPE Not Implemented',
  16: 'Bad OPT Version',
  17: 'Key not recognized',
  18: 'Signature out of time window',
  19: 'Bad TKEY Mode',
  20: 'Duplicate key name',
  21: 'Algorithm not supported',
  22: 'Bad Truncation',
  23: 'Bad/missing Server Cookie',
};

/**
 * `dns`: queries (requests, and dropped ones with rcode `Policy denied`),
 * responses by rcode, and answer record types. Options: `query` adds the
 * queried name as a label; `ignoreAAAA` skips flows whose only qtype is AAAA.
 */
export function createDnsHandler(options: ReadonlyMap<string, string>): MetricHandler {
  const context = parseContextOptions(options);
  const includeQuery = optionValue(options, 'query') !== undefined;
  const ignoreAAAA = optionValue(options, 'ignoreAAAA') !== undefined;
  const contextNames = contextLabelNames(context);
  const queryLabel = includeQuery ? ['query'] : [];
  const queryAndResponseLabels = [...contextNames, 'rcode', 'qtypes', 'ips_returned', ...queryLabel];
  const queries = new CounterFamily(`${METRIC_PREFIX}dns_queries_total`, 'Number of DNS queries observed', queryAndResponseLabels);
  const responses = new CounterFamily(`${METRIC_PREFIX}dns_responses_total`, 'Number of DNS responses observed', queryAndResponseLabels);
  const responseTypes = new CounterFamily(`${METRIC_PREFIX}dns_response_types_total`, 'Number of DNS response types', [
    ...contextNames,
    'type',
    'qtypes',
    ...queryLabel,
  ]);
  return {
    name: 'dns',
    families: [queries, responses, responseTypes],
    processFlow(flow) {
      const dns = flow.l7?.dns;
      if (!dns) return;
      const qtypeList = dns.qtypes ?? [];
      if (ignoreAAAA && qtypeList.length === 1 && qtypeList[0] === 'AAAA') return;
      const contextValues = contextLabelValues(context, flow);
      const qtypes = qtypeList.join(',');
      const ipsReturned = String(dns.ips?.length ?? 0);
      const query = includeQuery ? [dns.query ?? ''] : [];
      if (flow.verdict === 'DROPPED') {
        queries.inc([...contextValues, 'Policy denied', qtypes, ipsReturned, ...query]);
      } else if (flow.is_reply !== true) {
        queries.inc([...contextValues, '', qtypes, ipsReturned, ...query]);
      } else {
        responses.inc([...contextValues, DNS_RCODE_NAMES[dns.rcode ?? 0] ?? '', qtypes, ipsReturned, ...query]);
        for (const type of dns.rrtypes ?? []) responseTypes.inc([...contextValues, type, qtypes, ...query]);
      }
    },
  };
}
