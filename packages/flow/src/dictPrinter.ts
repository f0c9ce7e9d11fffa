import { endpointAddress, flowTypeLabel, formatStampMilli, type CompactPrintOptions } from './compactPrinter.ts';
import type { GetFlowsResponse } from './observerApi.ts';

/** What `hubble observe -o dict` prints between two records. */
export const DICT_SEPARATOR = '------------';

/**
 * One response as a block of right-aligned `KEY: value` lines, the layout of
 * `hubble observe -o dict` (without the separator line between records).
 */
export function formatDict(response: GetFlowsResponse, options: CompactPrintOptions = {}): string {
  const rows: [string, string][] = [];
  if (response.lost_events) {
    const lost = response.lost_events;
    rows.push(['TIMESTAMP', '']);
    if (options.printNodeName) rows.push(['NODE', '']);
    rows.push(['SOURCE', lost.source], ['TYPE', 'EVENTS LOST'], ['VERDICT', ''], ['SUMMARY', `CPU(${lost.cpu ?? 0}) - ${lost.num_events_lost}`]);
  } else {
    const flow = response.flow;
    rows.push(['TIMESTAMP', formatStampMilli(flow.time, options.timeZone ?? 'local')]);
    if (options.printNodeName) rows.push(['NODE', flow.node_name]);
    rows.push(
      ['SOURCE', endpointAddress(flow, 'source')],
      ['DESTINATION', endpointAddress(flow, 'destination')],
      ['TYPE', flowTypeLabel(flow)],
      ['VERDICT', flow.verdict],
      ['SUMMARY', flow.Summary ?? ''],
    );
  }
  return rows.map(([key, value]) => `${key.padStart('DESTINATION'.length)}: ${value}`).join('\n');
}
