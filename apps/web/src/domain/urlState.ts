import { VERDICTS, type Verdict } from '@tycho/flow';

/** The two views the header switches between. */
export type View = 'map' | 'metrics';

/** The time windows of the Metrics view (`GET /api/v1/metrics?window=`). */
export const METRICS_WINDOWS = ['1m', '5m', '15m', '1h'] as const;
export type MetricsWindow = (typeof METRICS_WINDOWS)[number];
export const DEFAULT_METRICS_WINDOW: MetricsWindow = '5m';

/**
 * What the address bar holds, so a reload restores the view and a link can
 * be shared: `?namespace=default&card=default/echo-a&filter=to:pod=echo&verdict=DROPPED`,
 * or `?namespace=default&view=metrics&window=15m` for the Metrics view.
 * No namespace means "All namespaces". A link selection (`link=<link id>`)
 * replaces a card selection.
 */
export interface UrlState {
  namespace: string | undefined;
  card: string | undefined;
  link: string | undefined;
  filter: string;
  verdict: Verdict | undefined;
  view: View;
  window: MetricsWindow;
}

export const EMPTY_URL_STATE: UrlState = {
  namespace: undefined,
  card: undefined,
  link: undefined,
  filter: '',
  verdict: undefined,
  view: 'map',
  window: DEFAULT_METRICS_WINDOW,
};

function isMetricsWindow(value: string | null): value is MetricsWindow {
  return value !== null && (METRICS_WINDOWS as readonly string[]).includes(value);
}

function isVerdict(value: string | null): value is Verdict {
  return value !== null && (VERDICTS as readonly string[]).includes(value) && value !== 'VERDICT_UNKNOWN';
}

function nonEmpty(value: string | null): string | undefined {
  return value === null || value === '' ? undefined : value;
}

export function parseUrlState(search: string): UrlState {
  const params = new URLSearchParams(search);
  const card = nonEmpty(params.get('card'));
  const link = card ? undefined : nonEmpty(params.get('link'));
  const verdict = params.get('verdict');
  const namespace = nonEmpty(params.get('namespace'));
  const window = params.get('window');
  return {
    namespace: namespace === 'all' ? undefined : namespace,
    card,
    link,
    filter: params.get('filter') ?? '',
    verdict: isVerdict(verdict) ? verdict : undefined,
    view: params.get('view') === 'metrics' ? 'metrics' : 'map',
    window: isMetricsWindow(window) ? window : DEFAULT_METRICS_WINDOW,
  };
}

/** The query string for a state (with a leading `?`, or empty). Keys in a fixed order, empty ones left out. */
export function formatUrlState(state: UrlState): string {
  const params = new URLSearchParams();
  if (state.namespace) params.set('namespace', state.namespace);
  if (state.card) params.set('card', state.card);
  else if (state.link) params.set('link', state.link);
  if (state.filter.trim()) params.set('filter', state.filter.trim());
  if (state.verdict) params.set('verdict', state.verdict);
  if (state.view === 'metrics') params.set('view', 'metrics');
  if (state.window !== DEFAULT_METRICS_WINDOW) params.set('window', state.window);
  const query = params.toString();
  return query ? `?${query}` : '';
}
