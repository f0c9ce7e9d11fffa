import { useMemo } from 'react';
import { formatClock, formatMilliseconds, formatNumber, rateSeries, verdictOrder } from '../../domain/chartGeometry.ts';
import type { MetricsWindow } from '../../domain/urlState.ts';
import type { ApiMetrics } from '../../data/apiSchemas.ts';
import { BarChart, type Bar } from '../BarChart/index.tsx';
import { RateChart } from '../RateChart/index.tsx';
import { describeWindow, WindowSelector } from '../WindowSelector/index.tsx';
import './metrics.css';

const WINDOW_SECONDS: Record<MetricsWindow, number> = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600 };

export interface MetricsViewProps {
  window: MetricsWindow;
  namespace: string | undefined;
  onWindowChange: (window: MetricsWindow) => void;
  /** The last answer of `GET /api/v1/metrics`, possibly for the previous window while the new one loads (`loading`). */
  metrics: ApiMetrics | undefined;
  /** A new window or namespace is loading: `metrics` are still the previous ones. */
  loading: boolean;
  /** Why the last fetch failed, if it did. */
  error: string | undefined;
  /** When the shown numbers were fetched (epoch ms). */
  updatedAt: number | undefined;
}

function statusTone(status: number): Bar['tone'] {
  return status >= 500 ? 'tone-bad' : status >= 400 ? 'tone-warn' : status >= 300 ? 'tone-info' : 'tone-good';
}

/**
 * Hubble's metrics without Grafana: flows/s by verdict, drops by reason, top
 * destination ports, DNS responses by rcode, HTTP responses by status and
 * latency percentiles, over the chosen window, as the API counts them from
 * the flows it relays.
 */
export function MetricsView({ window, namespace, onWindowChange, metrics, loading, error, updatedAt }: MetricsViewProps) {
  const scope = namespace ? `namespace ${namespace}` : 'all namespaces';
  const charts = useMemo(() => {
    if (!metrics) return undefined;
    const seconds = WINDOW_SECONDS[metrics.window];
    const averages = Object.fromEntries(Object.entries(metrics.flows.by_verdict).map(([verdict, flows]) => [verdict, flows / seconds]));
    const series = rateSeries(metrics.flows.per_second);
    const legendSeries = verdictOrder([...series.map((s) => s.verdict), ...Object.keys(averages)]).map((verdict) => series.find((s) => s.verdict === verdict) ?? { verdict, points: [] });
    const points = metrics.flows.per_second;
    return {
      averages,
      series: legendSeries,
      startMs: points.length > 0 ? Date.parse(points[0]!.time) : Date.parse(metrics.start),
      endMs: points.length > 0 ? Date.parse(points[points.length - 1]!.time) : Date.parse(metrics.end),
      drops: metrics.drops.by_reason.map((drop): Bar => ({ label: drop.reason, value: drop.flows, tone: 'tone-bad' })),
      ports: metrics.top_ports.map((port): Bar => ({ label: `${port.port}/${port.protocol}`, value: port.flows, tone: 'tone-info' })),
      rcodes: metrics.dns.by_rcode.map((entry): Bar => ({ label: entry.rcode, value: entry.responses, tone: entry.rcode === 'NOERROR' ? 'tone-good' : entry.rcode === 'NXDOMAIN' ? 'tone-warn' : 'tone-bad' })),
      statuses: metrics.http.by_status.map((entry): Bar => ({ label: String(entry.status), value: entry.responses, tone: statusTone(entry.status) })),
    };
  }, [metrics]);

  let body;
  if (!metrics || !charts) {
    body = error ? (
      <div className="metrics-state status-unreachable" role="alert" data-testid="metrics-unreachable">
        <h3>API unreachable</h3>
        <p>Cannot fetch the metrics from the Tycho API; retrying.</p>
        <p className="muted">{error}</p>
      </div>
    ) : (
      <div className="metrics-state" role="status" data-testid="metrics-loading">
        <h3>Loading metrics…</h3>
      </div>
    );
  } else {
    const latency = metrics.http.latency_ms;
    body = (
      <>
        {error && (
          <p className="metrics-stale" role="alert" data-testid="metrics-stale">
            Showing the numbers of {updatedAt ? formatClock(updatedAt) : 'an earlier fetch'}; the API did not answer: {error}
          </p>
        )}
        {metrics.flows.total === 0 && (
          <div className="metrics-state" role="status" data-testid="metrics-empty">
            <h3>No flows in this window</h3>
            <p>Charts fill in as agents observe traffic in {scope}.</p>
          </div>
        )}
        <dl className="metrics-figures" data-testid="metrics-figures">
          <div><dt>Flows</dt><dd data-testid="figure-flows">{formatNumber(metrics.flows.total)}</dd></div>
          <div><dt>Drops</dt><dd className={metrics.drops.total > 0 ? 'verdict-dropped' : ''} data-testid="figure-drops">{formatNumber(metrics.drops.total)}</dd></div>
          <div><dt>DNS queries</dt><dd data-testid="figure-dns-queries">{formatNumber(metrics.dns.queries)}</dd></div>
          <div><dt>HTTP responses</dt><dd data-testid="figure-http-responses">{formatNumber(metrics.http.responses)}</dd></div>
        </dl>
        <div className="metrics-grid">
          <figure className="metrics-panel metrics-wide" data-testid="chart-flows">
            <figcaption>Flows per second by verdict <span className="muted">· {metrics.step_seconds} s steps</span></figcaption>
            <RateChart series={charts.series} startMs={charts.startMs} endMs={charts.endMs} averages={charts.averages} label={`Flows per second by verdict, ${describeWindow(metrics.window)}`} />
          </figure>
          <figure className="metrics-panel" data-testid="chart-drops">
            <figcaption>Drops by reason</figcaption>
            <BarChart bars={charts.drops} label="Drops by reason" emptyText="No drops in this window." />
          </figure>
          <figure className="metrics-panel" data-testid="chart-ports">
            <figcaption>Top destination ports <span className="muted">· forwarded flows</span></figcaption>
            <BarChart bars={charts.ports} label="Flows by destination port" emptyText="No forwarded TCP or UDP flows in this window." />
          </figure>
          <figure className="metrics-panel" data-testid="chart-dns">
            <figcaption>DNS responses by rcode <span className="muted">· {formatNumber(metrics.dns.queries)} queries</span></figcaption>
            <BarChart bars={charts.rcodes} label="DNS responses by rcode" emptyText="No DNS responses in this window." />
          </figure>
          <figure className="metrics-panel" data-testid="chart-http">
            <figcaption>HTTP responses by status</figcaption>
            <BarChart bars={charts.statuses} label="HTTP responses by status" emptyText="No HTTP responses in this window." />
            <dl className="latency-figures" aria-label="HTTP latency percentiles" data-testid="http-latency">
              {(['p50', 'p90', 'p99'] as const).map((name) => (
                <div key={name}>
                  <dt>{name}</dt>
                  <dd data-testid={`latency-${name}`} data-value={latency ? latency[name] : ''}>{latency ? formatMilliseconds(latency[name]) : '—'}</dd>
                </div>
              ))}
            </dl>
          </figure>
        </div>
      </>
    );
  }

  return (
    <section className="metrics" aria-labelledby="metrics-title" data-testid="metrics-view">
      <div className="metrics-toolbar">
        <h2 id="metrics-title">Metrics <span className="muted">· {scope} · {describeWindow(window)}</span></h2>
        <WindowSelector value={window} onChange={onWindowChange} />
        <span className="muted metrics-updated" data-testid="metrics-updated" data-window={metrics?.window ?? ''} aria-live="polite">
          {loading && metrics ? 'Updating…' : updatedAt ? `Updated ${formatClock(updatedAt)}` : ''}
        </span>
      </div>
      {body}
    </section>
  );
}
