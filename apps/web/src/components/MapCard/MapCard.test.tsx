// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CardBox } from '../../layout/mapLayout.ts';
import { card } from '../../testing/mapFixtures.ts';
import { MapCard } from './index.tsx';

afterEach(cleanup);

const box = (portRows: number): CardBox => ({ id: 'card', island: 'default', column: 0, row: 0, x: 0, y: 0, width: 220, height: 120, portRows });

describe('MapCard', () => {
  it('shows the HTTP endpoints the card serves on its http port row', () => {
    const echoA = card('default/echo-a', {
      ports: [
        { port: 53, protocol: 'UDP', l7: 'dns' },
        { port: 8080, protocol: 'TCP', l7: 'http' },
      ],
      httpEndpoints: [
        { method: 'GET', path: '/public', requests: 12, statuses: { '2xx': 12 } },
        { method: 'GET', path: '/private', requests: 3, statuses: { '2xx': 3 } },
      ],
    });
    render(<MapCard card={echoA} box={box(2)} selected={false} dimmed={false} onSelect={vi.fn()} />);
    const rows = screen.getAllByTestId('card-port');
    expect(rows.map((row) => row.textContent)).toEqual(['53 · UDP · dns', '8080 · TCP · http GET /public /private']);
    expect(rows[1]?.getAttribute('title')).toBe('GET /public /private');
    expect(screen.getAllByTestId('card-endpoints')).toHaveLength(1);
  });

  it('shows no endpoints without HTTP flows', () => {
    render(<MapCard card={card('default/echo-b', { ports: [{ port: 8080, protocol: 'TCP', l7: 'http' }] })} box={box(1)} selected={false} dimmed={false} onSelect={vi.fn()} />);
    expect(screen.getByTestId('card-port').textContent).toBe('8080 · TCP · http');
    expect(screen.queryByTestId('card-endpoints')).toBeNull();
  });
});
