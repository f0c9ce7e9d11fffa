import { DICT_SEPARATOR, formatCompact, formatDict, formatJson, formatTable, type GetFlowsResponse } from '@tycho/flow';
import type { OutputFormat } from './observeOptions.ts';

export interface FlowOutputOptions {
  printNodeName: boolean;
  timeZone: 'local' | 'utc';
}

/**
 * Prints responses in one of `hubble observe`'s formats. `json` and `jsonpb`
 * both print the whole GetFlowsResponse per line (in Hubble `json` became an
 * alias of `jsonpb`); `dict` separates records with a line of dashes; `table`
 * needs every row before it can align the columns, so it prints on `end()`.
 */
export function createFlowOutput(format: OutputFormat, options: FlowOutputOptions, write: (text: string) => void) {
  let printed = 0;
  const tableRows: GetFlowsResponse[] = [];

  function print(response: GetFlowsResponse): void {
    switch (format) {
      case 'json':
      case 'jsonpb':
        write(`${formatJson(response)}\n`);
        break;
      case 'compact':
        write(`${formatCompact(response, options)}\n`);
        break;
      case 'dict':
        write(`${printed > 0 ? `${DICT_SEPARATOR}\n` : ''}${formatDict(response, options)}\n`);
        break;
      case 'table':
        tableRows.push(response);
        break;
    }
    printed++;
  }

  return {
    print,
    end(): void {
      if (format === 'table' && tableRows.length > 0) write(`${formatTable(tableRows, options)}\n`);
    },
  } as const;
}
