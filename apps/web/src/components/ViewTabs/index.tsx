import { useRef, type KeyboardEvent } from 'react';
import type { View } from '../../domain/urlState.ts';

const VIEWS: { view: View; label: string }[] = [
  { view: 'map', label: 'Service map' },
  { view: 'metrics', label: 'Metrics' },
];

export const viewTabId = (view: View) => `view-tab-${view}`;
export const viewPanelId = (view: View) => `view-panel-${view}`;

/** "Service map | Metrics": tabs in the header; arrow keys, Home and End move between them (WAI-ARIA tabs). */
export function ViewTabs({ value, onChange }: { value: View; onChange: (view: View) => void }) {
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const current = VIEWS.findIndex((entry) => entry.view === value);
    const next = event.key === 'ArrowRight' ? (current + 1) % VIEWS.length
      : event.key === 'ArrowLeft' ? (current + VIEWS.length - 1) % VIEWS.length
        : event.key === 'Home' ? 0 : event.key === 'End' ? VIEWS.length - 1 : undefined;
    if (next === undefined) return;
    event.preventDefault();
    onChange(VIEWS[next]!.view);
    tabs.current[next]?.focus();
  };
  return (
    <div className="view-tabs" role="tablist" aria-label="View" onKeyDown={onKeyDown}>
      {VIEWS.map((entry, index) => (
        <button
          key={entry.view}
          ref={(element) => { tabs.current[index] = element; }}
          type="button"
          role="tab"
          id={viewTabId(entry.view)}
          aria-selected={entry.view === value}
          aria-controls={viewPanelId(entry.view)}
          tabIndex={entry.view === value ? 0 : -1}
          data-testid={`view-tab-${entry.view}`}
          onClick={() => onChange(entry.view)}
        >
          {entry.label}
        </button>
      ))}
    </div>
  );
}
