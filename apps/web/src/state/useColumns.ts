import { useCallback, useState } from 'react';
import { DEFAULT_COLUMNS, FLOW_COLUMNS, isFlowColumnId, type FlowColumnId } from '../domain/flowColumns.ts';

const STORAGE_KEY = 'tycho.flowColumns';

function initialColumns(): FlowColumnId[] {
  const stored = window.localStorage.getItem(STORAGE_KEY);
  const ids = stored ? stored.split(',').filter(isFlowColumnId) : [];
  return ids.length > 0 ? ids : [...DEFAULT_COLUMNS];
}

/** The flows table's visible columns, in the table's order, remembered in localStorage. */
export function useColumns(): [FlowColumnId[], (id: FlowColumnId, visible: boolean) => void] {
  const [columns, setColumns] = useState<FlowColumnId[]>(initialColumns);
  const toggle = useCallback((id: FlowColumnId, visible: boolean) => {
    setColumns((current) => {
      const wanted = new Set(current);
      if (visible) wanted.add(id);
      else wanted.delete(id);
      const next = FLOW_COLUMNS.map((column) => column.id).filter((column) => wanted.has(column));
      window.localStorage.setItem(STORAGE_KEY, next.join(','));
      return next;
    });
  }, []);
  return [columns, toggle];
}
