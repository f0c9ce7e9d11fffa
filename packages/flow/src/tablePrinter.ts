import { endpointAddress, flowTypeLabel, formatStampMilli, type CompactPrintOptions } from './compactPrinter.ts';
import type { GetFlowsResponse } from './observerApi.ts';

/** Go `tabwriter` settings Hubble's table uses: cells at least 2 wide, 3 spaces of padding. */
const MIN_WIDTH = 2;
const PADDING = 3;

/**
 * Responses as `hubble observe -o table` prints them: a header
 * (TIMESTAMP [NODE] SOURCE DESTINATION TYPE VERDICT SUMMARY) and one row per
 * response, columns padded to the widest cell. Empty for no responses.
 */
export function formatTable(responses: readonly GetFlowsResponse[], options: CompactPrintOptions = {}): string {
  if (responses.length === 0) return '';
  const node = options.printNodeName ?? false;
  const header = ['TIMESTAMP', ...(node ? ['NODE'] : []), 'SOURCE', 'DESTINATION', 'TYPE', 'VERDICT', 'SUMMARY'];
  const rows = responses.map((response): string[] => {
    if (response.lost_events) {
      const lost = response.lost_events;
      return ['', ...(node ? [''] : []), lost.source, '', 'EVENTS LOST', '', `CPU(${lost.cpu ?? 0}) - ${lost.num_events_lost}`];
    }
    const flow = response.flow;
    return [
      formatStampMilli(flow.time, options.timeZone ?? 'local'),
      ...(node ? [flow.node_name] : []),
      endpointAddress(flow, 'source'),
      endpointAddress(flow, 'destination'),
      flowTypeLabel(flow),
      flow.verdict,
      flow.Summary ?? '',
    ];
  });
  return alignColumns([header, ...rows]);
}

/** Left-aligned columns as Go's tabwriter pads them for Hubble: widest cell + 3; the last cell of a row is not padded. */
export function alignColumns(rows: readonly string[][]): string {
  const columns = (rows[0]?.length ?? 1) - 1;
  const widths = Array.from({ length: columns }, (_, column) => Math.max(MIN_WIDTH, ...rows.map((row) => (row[column] ?? '').length + PADDING)));
  return rows.map((row) => row.map((cell, column) => (column < columns ? cell.padEnd(widths[column] ?? 0) : cell)).join('')).join('\n');
}
