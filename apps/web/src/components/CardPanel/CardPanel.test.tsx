// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { card } from '../../testing/mapFixtures.ts';
import { CardPanel } from './index.tsx';

afterEach(cleanup);

describe('CardPanel', () => {
  it('lists the HTTP endpoints a card serves with requests and status classes', () => {
    const echoA = card('default/echo-a', {
      ports: [{ port: 8080, protocol: 'TCP', l7: 'http' }],
      httpEndpoints: [
        { method: 'GET', path: '/public', requests: 12, statuses: { '2xx': 11, '5xx': 1 } },
        { method: 'POST', path: '/items', requests: 1, statuses: {} },
      ],
    });
    render(<CardPanel card={echoA} inbound={[]} outbound={[]} onSelectCard={vi.fn()} onClose={vi.fn()} />);
    const section = screen.getByRole('region', { name: 'HTTP endpoints' });
    expect(within(section).getByRole('heading').textContent).toBe('HTTP endpoints (2)');
    expect(within(section).getAllByTestId('http-endpoint').map((item) => item.textContent)).toEqual([
      'GET /public12 req2xx 11 · 5xx 1',
      'POST /items1 reqno responses seen',
    ]);
  });

  it('has no HTTP section for a card without HTTP endpoints', () => {
    render(<CardPanel card={card('default/pod-to-a')} inbound={[]} outbound={[]} onSelectCard={vi.fn()} onClose={vi.fn()} />);
    expect(screen.queryByRole('region', { name: 'HTTP endpoints' })).toBeNull();
  });
});
