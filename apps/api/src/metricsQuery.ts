import { parseNamespace, quoted, unknownKeyError } from './flowQuery.ts';
import { METRICS_WINDOWS, type MetricsWindow } from './metricsTimeline.ts';

/** What `GET /api/v1/metrics` asks for: a window (default 5m) and a namespace (default all). */
export interface MetricsQuery {
  window: MetricsWindow;
  namespace: string;
}

export type ParsedMetricsQuery = { ok: true; value: MetricsQuery } | { ok: false; error: string };

const KNOWN = ['window', 'namespace'] as const;
const WINDOWS = Object.keys(METRICS_WINDOWS) as MetricsWindow[];

function isWindow(text: string): text is MetricsWindow {
  return (WINDOWS as string[]).includes(text);
}

/** Parses the query of `GET /api/v1/metrics`; errors read `<param>: <what is wrong>` as the other endpoints' do. */
export function parseMetricsQuery(params: Record<string, unknown>): ParsedMetricsQuery {
  for (const key of Object.keys(params)) {
    if (!(KNOWN as readonly string[]).includes(key)) return { ok: false, error: unknownKeyError(key, 'parameter', 'query', KNOWN) };
    if (typeof params[key] !== 'string') return { ok: false, error: `${key}: given more than once; give it once` };
  }
  const window = (params.window as string | undefined) ?? '5m';
  if (!isWindow(window)) return { ok: false, error: `window: ${quoted(window)} is not a window; expected one of ${WINDOWS.join(', ')}` };
  const namespace = parseNamespace((params.namespace as string | undefined) ?? 'all');
  if (!namespace.ok) return namespace;
  return { ok: true, value: { window, namespace: namespace.value ?? 'all' } };
}
