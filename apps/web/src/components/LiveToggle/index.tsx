export interface LiveToggleProps {
  paused: boolean;
  pendingCount: number;
  onPause: () => void;
  onResume: () => void;
}

/** Live or paused; while paused, how many flows wait. */
export function LiveToggle({ paused, pendingCount, onPause, onResume }: LiveToggleProps) {
  return (
    <button
      type="button"
      className={`live-toggle ${paused ? 'paused' : 'live'}`}
      data-testid="live-toggle"
      aria-pressed={!paused}
      onClick={paused ? onResume : onPause}
    >
      {paused ? `Paused · ${pendingCount} new` : 'Live'}
    </button>
  );
}
