export type MapCondition = 'loading' | 'unreachable' | 'empty' | 'ready';

export interface StatusBannerProps {
  condition: MapCondition;
  detail?: string | undefined;
}

const MESSAGES: Record<Exclude<MapCondition, 'ready'>, { title: string; body: string }> = {
  loading: { title: 'Loading…', body: 'Fetching the service map and the latest flows.' },
  unreachable: { title: 'API unreachable', body: 'Cannot reach the Tycho API; retrying. Is tycho-api running on this host?' },
  empty: { title: 'No flows yet', body: 'Cards and links appear as soon as agents observe traffic in this namespace.' },
};

/** What the map area says when there is no map to show. */
export function StatusBanner({ condition, detail }: StatusBannerProps) {
  if (condition === 'ready') return null;
  const message = MESSAGES[condition];
  return (
    <div className={`status-banner status-${condition}`} data-testid={`state-${condition}`} role={condition === 'unreachable' ? 'alert' : 'status'}>
      <h2>{message.title}</h2>
      <p>{message.body}</p>
      {detail && <p className="muted">{detail}</p>}
    </div>
  );
}
