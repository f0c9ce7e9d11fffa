// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricsAnswer } from '../../testing/metricsFixtures.ts';
import { MetricsView, type MetricsViewProps } from './index.tsx';

afterEach(cleanup);

function renderView(props: Partial<MetricsViewProps> = {}) {
  const onWindowChange = vi.fn();
  render(<MetricsView window="1m" namespace="default" onWindowChange={onWindowChange} metrics={metricsAnswer()} loading={false} error={undefined} updatedAt={Date.UTC(2024, 0, 1, 12, 1)} {...props} />);
  return { onWindowChange };
}

function bars(chart: string): [string | null, string | null][] {
  return within(screen.getByTestId(chart)).queryAllByTestId('bar').map((bar) => [bar.getAttribute('data-label'), bar.getAttribute('data-value')]);
}

describe('MetricsView', () => {
  it('draws a line and an area per verdict, with the latest step’s and the window’s average flows/s in the legend', () => {
    renderView();
    const chart = screen.getByTestId('rate-chart');
    const series = within(chart).getAllByTestId('rate-series');
    expect(series.map((s) => s.getAttribute('data-verdict'))).toEqual(['FORWARDED', 'DROPPED']);
    for (const s of series) {
      expect(s.querySelector('path.line')?.getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){11}$/);
      expect(s.querySelector('path.area')?.getAttribute('d')).toMatch(/Z$/);
    }
    const legend = within(chart).getAllByTestId('rate-legend').map((item) => item.textContent);
    expect(legend).toEqual(['FORWARDED 1.4 flows/s (avg 1)', 'DROPPED 0 flows/s (avg 0.1)']);
  });

  it('draws a bar per drop reason, port, DNS rcode and HTTP status with its count', () => {
    renderView();
    expect(bars('chart-drops')).toEqual([['POLICY_DENIED', '6']]);
    expect(bars('chart-ports')).toEqual([['8080/TCP', '40'], ['53/UDP', '12']]);
    expect(bars('chart-dns')).toEqual([['NOERROR', '11'], ['NXDOMAIN', '1']]);
    expect(bars('chart-http')).toEqual([['200', '19'], ['503', '1']]);
    expect(screen.getByRole('img', { name: 'HTTP responses by status: 200 19, 503 1' })).toBeTruthy();
  });

  it('shows the HTTP latency percentiles and the totals', () => {
    renderView();
    expect(['p50', 'p90', 'p99'].map((name) => screen.getByTestId(`latency-${name}`).textContent)).toEqual(['1.2 ms', '3.4 ms', '12.5 ms']);
    expect(screen.getByTestId('figure-flows').textContent).toBe('66');
    expect(screen.getByTestId('figure-dns-queries').textContent).toBe('12');
  });

  it('says what is missing instead of drawing empty charts', () => {
    const empty = metricsAnswer({
      flows: { total: 0, by_verdict: {}, per_second: [] },
      drops: { total: 0, by_reason: [] },
      top_ports: [],
      dns: { queries: 0, responses: 0, by_rcode: [] },
      http: { responses: 0, by_status: [], latency_ms: null },
    });
    renderView({ metrics: empty });
    expect(screen.getByTestId('metrics-empty').textContent).toContain('No flows in this window');
    expect(within(screen.getByTestId('chart-drops')).getByText('No drops in this window.')).toBeTruthy();
    expect(screen.getByTestId('latency-p50').textContent).toBe('—');
  });

  it('says it is loading before the first answer', () => {
    renderView({ metrics: undefined, loading: true, updatedAt: undefined });
    expect(screen.getByTestId('metrics-loading')).toBeTruthy();
  });

  it('says the API is unreachable when there is nothing to show, and keeps old numbers with a warning otherwise', () => {
    renderView({ metrics: undefined, error: 'cannot reach the Tycho API (/api/v1/metrics): Failed to fetch' });
    expect(screen.getByRole('alert').textContent).toContain('API unreachable');
    cleanup();
    renderView({ error: '/api/v1/metrics: 502 Bad Gateway' });
    expect(screen.getByTestId('metrics-stale').textContent).toContain('502 Bad Gateway');
    expect(screen.getByTestId('rate-chart')).toBeTruthy();
  });

  it('changes the window from the selector', () => {
    const { onWindowChange } = renderView();
    expect((screen.getByRole('radio', { name: '1m' }) as HTMLInputElement).checked).toBe(true);
    fireEvent.click(screen.getByRole('radio', { name: '15m' }));
    expect(onWindowChange).toHaveBeenCalledWith('15m');
  });

  it('redraws the bars when the numbers change', () => {
    const { rerender } = render(<MetricsView window="1m" namespace={undefined} onWindowChange={vi.fn()} metrics={metricsAnswer()} loading={false} error={undefined} updatedAt={undefined} />);
    rerender(<MetricsView window="1m" namespace={undefined} onWindowChange={vi.fn()} metrics={metricsAnswer({ drops: { total: 9, by_reason: [{ reason: 'POLICY_DENIED', flows: 7 }, { reason: 'SERVICE_BACKEND_NOT_FOUND', flows: 2 }] } })} loading={false} error={undefined} updatedAt={undefined} />);
    expect(bars('chart-drops')).toEqual([['POLICY_DENIED', '7'], ['SERVICE_BACKEND_NOT_FOUND', '2']]);
  });
});
