import { METRICS_WINDOWS, type MetricsWindow } from '../../domain/urlState.ts';

const LABELS: Record<MetricsWindow, string> = { '1m': 'last minute', '5m': 'last 5 minutes', '15m': 'last 15 minutes', '1h': 'last hour' };

export function describeWindow(window: MetricsWindow): string {
  return LABELS[window];
}

/** The Metrics view's time window: radio buttons (arrow keys move between them), drawn as a segmented control. */
export function WindowSelector({ value, onChange }: { value: MetricsWindow; onChange: (window: MetricsWindow) => void }) {
  return (
    <fieldset className="window-selector" data-testid="window-selector">
      <legend className="visually-hidden">Time window</legend>
      {METRICS_WINDOWS.map((window) => (
        <label key={window} title={LABELS[window]}>
          <input type="radio" name="metrics-window" value={window} checked={window === value} onChange={() => onChange(window)} aria-label={window} />
          <span aria-hidden="true">{window}</span>
        </label>
      ))}
    </fieldset>
  );
}
