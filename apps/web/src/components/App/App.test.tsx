// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stubLayoutAndCanvas } from '../../testing/domStubs.ts';
import { card, flow, link } from '../../testing/mapFixtures.ts';
import { metricsAnswer } from '../../testing/metricsFixtures.ts';
import { App } from './index.tsx';

const snapshot = {
  cards: [card('default/pod-to-a'), card('default/echo-a', { ports: [{ port: 8080, protocol: 'TCP' }] }), card('default/pod-to-b'), card('default/echo-b', { ports: [{ port: 8080, protocol: 'TCP' }] })],
  links: [link('default/pod-to-a', 'default/echo-a'), link('default/pod-to-b', 'default/echo-b')],
};
const flows = [
  flow('f1', 'default/pod-to-a', 'default/echo-a', { time: '2024-01-01T00:00:03Z' }),
  flow('f2', 'default/pod-to-b', 'default/echo-b', { time: '2024-01-01T00:00:02Z' }),
  flow('f3', 'default/pod-to-a', 'default/echo-a', { time: '2024-01-01T00:00:01Z' }),
];
const status = { num_flows: 3, max_flows: 4095, seen_flows: 3, flows_per_second: 2.5, uptime_ns: 1, num_connected_nodes: 2, num_unavailable_nodes: 0, unavailable_nodes: [] };

/** A WebSocket that opens at once and records what the app sends; tests push batches through `emit`. */
class FakeSocket {
  static last: FakeSocket | undefined;
  static readonly OPEN = 1;
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.();
    });
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
  emit(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

function answer(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}

function serveApi(): void {
  vi.stubGlobal('fetch', vi.fn(async (input: string) => {
    const path = String(input);
    if (path.startsWith('/api/v1/status')) return answer(status);
    if (path.startsWith('/api/v1/nodes')) return answer({ nodes: [{ name: 'node-1', state: 'CONNECTED' }, { name: 'node-2', state: 'CONNECTED' }] });
    if (path.startsWith('/api/v1/namespaces')) return answer({ namespaces: ['default', 'kube-system'] });
    if (path.startsWith('/api/v1/service-map')) return answer(snapshot);
    if (path.startsWith('/api/v1/flows')) return answer({ flows: flows.map((f) => ({ flow: f, node_name: 'node-1', time: f.time })) });
    if (path.startsWith('/api/v1/metrics')) return answer(metricsAnswer({ window: (new URLSearchParams(path.split('?')[1]).get('window') ?? '5m') as '5m' }));
    return new Response('{}', { status: 404 });
  }));
}

function renderApp() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(<QueryClientProvider client={client}><App /></QueryClientProvider>);
}

beforeEach(() => {
  stubLayoutAndCanvas();
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.stubGlobal('requestAnimationFrame', (callback: () => void) => setTimeout(callback, 0));
  vi.stubGlobal('cancelAnimationFrame', (id: number) => clearTimeout(id));
  window.history.replaceState(null, '', '/?namespace=default');
  window.localStorage.clear();
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('App', () => {
  it('draws the snapshot, lists the flows and subscribes to the stream for the namespace', async () => {
    serveApi();
    renderApp();
    await screen.findByRole('button', { name: 'card echo-a in default' });
    await waitFor(() => expect(screen.getAllByTestId('flow-row')).toHaveLength(3));
    await waitFor(() => expect(FakeSocket.last?.sent.at(-1)).toEqual({ type: 'subscribe', namespace: 'default' }));
    expect(screen.getByTestId('connection-indicator').textContent).toBe('2.5 flows/s · 2/2 nodes');
  });

  it('selects a clicked card: the URL keeps it, the panel shows it and the table narrows to its flows', async () => {
    serveApi();
    renderApp();
    fireEvent.click(await screen.findByRole('button', { name: 'card echo-a in default' }));
    expect(new URLSearchParams(window.location.search).get('card')).toBe('default/echo-a');
    const panel = screen.getByTestId('card-panel');
    expect(within(panel).getByRole('heading', { name: 'echo-a' })).toBeTruthy();
    expect(within(within(panel).getByRole('region', { name: 'Inbound' })).getByRole('button', { name: 'pod-to-a' })).toBeTruthy();
    await waitFor(() => expect(screen.getAllByTestId('flow-row').map((row) => row.textContent?.includes('echo-a'))).toEqual([true, true]));
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(window.location.search).toBe('?namespace=default');
  });

  it('restores the selection from the URL on load', async () => {
    window.history.replaceState(null, '', '/?namespace=default&card=default%2Fecho-b');
    serveApi();
    renderApp();
    expect(await screen.findByTestId('card-panel')).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'echo-b' })).toBeTruthy();
  });

  it('adds what the stream sends, and while paused only counts it', async () => {
    serveApi();
    renderApp();
    await screen.findByRole('button', { name: 'card echo-a in default' });
    await waitFor(() => expect(FakeSocket.last?.readyState).toBe(1));
    const batch = (uuid: string, cards = [card('default/new-client')]) => ({
      type: 'batch',
      flows: [flow(uuid, 'default/new-client', 'default/echo-a', { time: '2024-01-01T00:00:09Z' })],
      map: { cards, links: [], removedCards: [], removedLinks: [] },
    });
    act(() => FakeSocket.last?.emit(batch('n1')));
    expect(await screen.findByRole('button', { name: 'card new-client in default' })).toBeTruthy();
    fireEvent.click(screen.getByTestId('live-toggle'));
    act(() => FakeSocket.last?.emit(batch('n2', [])));
    expect(screen.getByTestId('live-toggle').textContent).toBe('Paused · 1 new');
    fireEvent.click(screen.getByTestId('live-toggle'));
    await waitFor(() => expect(screen.getAllByTestId('flow-row')).toHaveLength(5));
  });

  it('says so when the API cannot be reached', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    }));
    vi.stubGlobal('WebSocket', class RefusedSocket {
      static readonly OPEN = 1;
      readyState = 0;
      onclose: (() => void) | null = null;
      constructor() {
        queueMicrotask(() => {
          this.readyState = 3;
          this.onclose?.();
        });
      }
      close(): void {}
    });
    renderApp();
    expect(await screen.findByTestId('state-unreachable')).toBeTruthy();
  });

  it('says so when there are no flows yet', async () => {
    serveApi();
    vi.mocked(fetch).mockImplementation(async (input) => {
      const path = String(input);
      if (path.startsWith('/api/v1/service-map')) return answer({ cards: [], links: [] });
      if (path.startsWith('/api/v1/flows')) return answer({ flows: [] });
      if (path.startsWith('/api/v1/status')) return answer(status);
      return answer({ nodes: [], namespaces: [] });
    });
    renderApp();
    expect(await screen.findByTestId('state-empty')).toBeTruthy();
  });

  it('switches to the Metrics view from the header tab, keeps it in the URL and fetches the window’s metrics', async () => {
    serveApi();
    renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Metrics' }));
    expect(new URLSearchParams(window.location.search).get('view')).toBe('metrics');
    expect(screen.getByRole('tab', { name: 'Metrics' }).getAttribute('aria-selected')).toBe('true');
    expect(await screen.findByTestId('rate-chart')).toBeTruthy();
    expect(vi.mocked(fetch).mock.calls.map(([input]) => String(input))).toContain('/api/v1/metrics?window=5m&namespace=default');
    expect(screen.queryByTestId('flow-row')).toBeNull();
  });

  it('refetches the metrics when the window changes', async () => {
    window.history.replaceState(null, '', '/?namespace=default&view=metrics');
    serveApi();
    renderApp();
    await screen.findByTestId('rate-chart');
    fireEvent.click(screen.getByRole('radio', { name: '15m' }));
    expect(new URLSearchParams(window.location.search).get('window')).toBe('15m');
    await waitFor(() => expect(screen.getByTestId('metrics-updated').getAttribute('data-window')).toBe('15m'));
    expect(vi.mocked(fetch).mock.calls.map(([input]) => String(input))).toContain('/api/v1/metrics?window=15m&namespace=default');
  });

  it('moves between the view tabs with the arrow keys', async () => {
    serveApi();
    renderApp();
    const mapTab = await screen.findByRole('tab', { name: 'Service map' });
    fireEvent.keyDown(mapTab, { key: 'ArrowRight' });
    expect(screen.getByRole('tab', { name: 'Metrics' }).getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Metrics' }));
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Metrics' }), { key: 'ArrowLeft' });
    expect(window.location.search).toBe('?namespace=default');
    expect(await screen.findByRole('button', { name: 'card echo-a in default' })).toBeTruthy();
  });

  it('says the metrics cannot be fetched when the API is unreachable', async () => {
    window.history.replaceState(null, '', '/?view=metrics');
    vi.stubGlobal('fetch', vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    }));
    renderApp();
    expect((await screen.findByTestId('metrics-unreachable')).textContent).toContain('Failed to fetch');
  });
});
