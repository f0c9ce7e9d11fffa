import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import type { Flow } from '@tycho/flow';
import { FLOW_COLUMNS, flowCell, type FlowColumnId } from '../../domain/flowColumns.ts';

export interface FlowsTableProps {
  flows: readonly Flow[];
  columns: readonly FlowColumnId[];
  selectedFlow: string | undefined;
  onSelectFlow: (uuid: string) => void;
  onToggleColumn: (id: FlowColumnId, visible: boolean) => void;
}

const ROW_HEIGHT = 28;

/** L7 info (`HTTP/1.1 200 GET /public · 3 ms`) and policies (`egress denied by default/x`) get the most room, then pods and timestamps. */
function columnWidth(id: FlowColumnId): string {
  if (id === 'l7' || id === 'policy') return 'minmax(230px, 1.5fr)';
  if (id === 'timestamp' || id.endsWith('Pod')) return 'minmax(160px, 2fr)';
  return 'minmax(90px, 1fr)';
}

/** The flows, newest first, virtualised: only the rows in view are in the DOM. */
export function FlowsTable({ flows, columns, selectedFlow, onSelectFlow, onToggleColumn }: FlowsTableProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: flows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (index) => flows[index]?.uuid ?? index,
  });
  const template = columns.map(columnWidth).join(' ');

  return (
    <section className="flows" aria-label="Flows">
      <div className="flows-toolbar">
        <span className="flows-count" data-testid="flows-count">{flows.length} flows</span>
        <details className="column-picker">
          <summary>Columns</summary>
          <fieldset>
            <legend>Visible columns</legend>
            {FLOW_COLUMNS.map((column) => (
              <label key={column.id}>
                <input type="checkbox" checked={columns.includes(column.id)} onChange={(event) => onToggleColumn(column.id, event.target.checked)} />
                {column.label}
              </label>
            ))}
          </fieldset>
        </details>
      </div>
      <div className="flows-grid" role="table" aria-label="Flows table" aria-rowcount={flows.length + 1}>
        <div className="flows-row flows-head" role="row" style={{ gridTemplateColumns: template }}>
          {columns.map((id) => (
            <div role="columnheader" key={id}>{FLOW_COLUMNS.find((column) => column.id === id)?.label}</div>
          ))}
        </div>
        <div className="flows-body" ref={scroller} role="rowgroup">
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((item) => {
              const flow = flows[item.index];
              if (!flow) return null;
              return (
                <div
                  key={item.key}
                  role="row"
                  aria-rowindex={item.index + 2}
                  aria-selected={selectedFlow === flow.uuid}
                  tabIndex={0}
                  data-testid="flow-row"
                  data-verdict={flow.verdict}
                  className={`flows-row verdict-${flow.verdict.toLowerCase()}${selectedFlow === flow.uuid ? ' selected' : ''}`}
                  style={{ gridTemplateColumns: template, transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
                  onClick={() => onSelectFlow(flow.uuid)}
                  onKeyDown={(event) => {
                    if (event.key === 'Enter') onSelectFlow(flow.uuid);
                  }}
                >
                  {columns.map((id) => (
                    <div role="cell" key={id} data-column={id} title={flowCell(flow, id)}>{flowCell(flow, id)}</div>
                  ))}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </section>
  );
}
