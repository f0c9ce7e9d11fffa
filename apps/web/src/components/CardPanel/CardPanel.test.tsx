// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cardPolicies, type CardPoliciesState } from '../../domain/policyDisplay.ts';
import { card } from '../../testing/mapFixtures.ts';
import { CardPanel } from './index.tsx';

afterEach(cleanup);

const READY_NONE: CardPoliciesState = { status: 'ready', policies: [] };

describe('CardPanel', () => {
  it('lists the HTTP endpoints a card serves with requests and status classes', () => {
    const echoA = card('default/echo-a', {
      ports: [{ port: 8080, protocol: 'TCP', l7: 'http' }],
      httpEndpoints: [
        { method: 'GET', path: '/public', requests: 12, statuses: { '2xx': 11, '5xx': 1 } },
        { method: 'POST', path: '/items', requests: 1, statuses: {} },
      ],
    });
    render(<CardPanel card={echoA} policies={READY_NONE} inbound={[]} outbound={[]} onSelectCard={vi.fn()} onClose={vi.fn()} />);
    const section = screen.getByRole('region', { name: 'HTTP endpoints' });
    expect(within(section).getByRole('heading').textContent).toBe('HTTP endpoints (2)');
    expect(within(section).getAllByTestId('http-endpoint').map((item) => item.textContent)).toEqual([
      'GET /public12 req2xx 11 · 5xx 1',
      'POST /items1 reqno responses seen',
    ]);
  });

  it('has no HTTP section for a card without HTTP endpoints', () => {
    render(<CardPanel card={card('default/pod-to-a')} policies={READY_NONE} inbound={[]} outbound={[]} onSelectCard={vi.fn()} onClose={vi.fn()} />);
    expect(screen.queryByRole('region', { name: 'HTTP endpoints' })).toBeNull();
    expect(screen.queryByTestId('card-services')).toBeNull();
  });

  it('names the services traffic to the card was addressed to', () => {
    render(<CardPanel card={card('default/echo-b', { services: ['default/echo-b', 'default/echo-b-lb'] })} policies={READY_NONE} inbound={[]} outbound={[]} onSelectCard={vi.fn()} onClose={vi.fn()} />);
    expect(screen.getByTestId('card-services').textContent).toBe('default/echo-b, default/echo-b-lb');
  });

  it('lists the policies that select the workload with the directions they make default-deny', () => {
    const podToA = card('default/pod-to-a-allowed-cnp');
    const policies = cardPolicies({
      revision: 2,
      policies: [
        { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'pod-to-a-allowed-cnp', selects: [{ namespace: 'default', pod_name: podToA.pods[0] ?? '', ingress: false, egress: true }] },
        { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'pod-to-a-l3-denied-cnp', selects: [{ namespace: 'default', pod_name: 'pod-to-a-l3-denied-cnp-1', ingress: false, egress: true }] },
      ],
    }, podToA);
    render(<CardPanel card={podToA} policies={{ status: 'ready', policies }} inbound={[]} outbound={[]} onSelectCard={vi.fn()} onClose={vi.fn()} />);
    const section = screen.getByRole('region', { name: 'Policies' });
    expect(within(section).getByRole('heading').textContent).toBe('Policies (1)');
    expect(within(section).getAllByTestId('card-policy').map((item) => item.textContent)).toEqual([
      'default/pod-to-a-allowed-cnpCiliumNetworkPolicydefault deny: egress',
    ]);
  });

  it('says so while the policies load, when none selects the workload, and when they cannot be fetched', () => {
    const podToA = card('default/pod-to-a');
    const { rerender } = render(<CardPanel card={podToA} policies={{ status: 'loading' }} inbound={[]} outbound={[]} onSelectCard={vi.fn()} onClose={vi.fn()} />);
    expect(screen.getByRole('region', { name: 'Policies' }).textContent).toContain('loading policies…');
    rerender(<CardPanel card={podToA} policies={READY_NONE} inbound={[]} outbound={[]} onSelectCard={vi.fn()} onClose={vi.fn()} />);
    expect(screen.getByRole('region', { name: 'Policies' }).textContent).toBe('Policies (0)no policy selects this workload: all traffic is allowed');
    rerender(<CardPanel card={podToA} policies={{ status: 'error', message: '/api/v1/policies: 503 no policy store' }} inbound={[]} outbound={[]} onSelectCard={vi.fn()} onClose={vi.fn()} />);
    expect(screen.getByRole('status').textContent).toBe('policies unavailable: /api/v1/policies: 503 no policy store');
  });

  it('has no Policies section for a card outside any namespace (world, host)', () => {
    render(<CardPanel card={card('world')} policies={READY_NONE} inbound={[]} outbound={[]} onSelectCard={vi.fn()} onClose={vi.fn()} />);
    expect(screen.queryByRole('region', { name: 'Policies' })).toBeNull();
  });
});
