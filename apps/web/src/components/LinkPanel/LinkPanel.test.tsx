// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { card, link } from '../../testing/mapFixtures.ts';
import { LinkPanel } from './index.tsx';

afterEach(cleanup);

const cards = new Map([card('default/pod-to-a-l3-denied-cnp'), card('default/echo-a')].map((c) => [c.id, c]));

describe('LinkPanel', () => {
  it('shows a dropped link’s drop reasons and the policy that denied it', () => {
    const denied = link('default/pod-to-a-l3-denied-cnp', 'default/echo-a', 8080, {
      flows: 4,
      verdicts: { DROPPED: 4 },
      dropReasons: { POLICY_DENIED: 4 },
      policies: [{ name: 'pod-to-a-l3-denied-cnp', namespace: 'default', kind: 'CiliumNetworkPolicy', effect: 'denied', direction: 'egress', flows: 4 }],
    });
    render(<LinkPanel link={denied} cards={cards} onClose={vi.fn()} />);
    const panel = screen.getByTestId('link-panel');
    expect(within(panel).getByTestId('link-drop-reasons').textContent).toBe('POLICY_DENIED 4');
    expect(within(panel).getAllByTestId('link-policy').map((item) => item.textContent)).toEqual([
      'egress denied by default/pod-to-a-l3-denied-cnp (CiliumNetworkPolicy) · 4 flows',
    ]);
    expect(within(panel).getByRole('heading').getAttribute('title')).toBe([
      'pod-to-a-l3-denied-cnp → echo-a:8080/TCP',
      'DROPPED 4',
      'dropped: POLICY_DENIED 4',
      'egress denied by default/pod-to-a-l3-denied-cnp (4 flows)',
    ].join('\n'));
  });

  it('shows a dash for the policies of a link whose flows name none', () => {
    render(<LinkPanel link={link('default/pod-to-a-l3-denied-cnp', 'default/echo-a')} cards={cards} onClose={vi.fn()} />);
    expect(screen.getByTestId('link-drop-reasons').textContent).toBe('—');
    expect(screen.queryAllByTestId('link-policy')).toEqual([]);
  });
});
