// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_COLUMNS } from '../../domain/flowColumns.ts';
import { stubLayoutAndCanvas } from '../../testing/domStubs.ts';
import { flow } from '../../testing/mapFixtures.ts';
import { FlowsTable } from './index.tsx';

beforeEach(stubLayoutAndCanvas);
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const flows = [flow('f1', 'default/pod-to-a', 'default/echo-a'), flow('f2', 'default/pod-to-b', 'default/echo-b', { verdict: 'DROPPED' })];

describe('FlowsTable', () => {
  it('renders a row per flow with Hubble UI columns', () => {
    render(<FlowsTable flows={flows} columns={DEFAULT_COLUMNS} selectedFlow={undefined} onSelectFlow={vi.fn()} onToggleColumn={vi.fn()} />);
    const rows = screen.getAllByTestId('flow-row');
    expect(rows).toHaveLength(2);
    const cells = within(rows[1]!).getAllByRole('cell').map((cell) => cell.textContent);
    expect(cells.slice(0, 7)).toEqual(['default/pod-to-b-6d9c7f8b5-x2k9p', '300', 'default/echo-b-6d9c7f8b5-x2k9p', '301', '8080', '', 'DROPPED']);
    expect(screen.getAllByRole('columnheader').map((h) => h.textContent)).toEqual([
      'Source Pod', 'Source Identity', 'Destination Pod', 'Destination Identity', 'Destination Port', 'L7 info', 'Verdict', 'Policy', 'Timestamp',
    ]);
  });

  it('shows in the Policy column the policies that denied or allowed each flow', () => {
    const policyFlows = [
      { ...flow('f3', 'default/pod-to-a-l3-denied-cnp', 'default/echo-a', { verdict: 'DROPPED' }), drop_reason_desc: 'POLICY_DENIED', egress_denied_by: [{ name: 'pod-to-a-l3-denied-cnp', namespace: 'default' }] },
      { ...flow('f4', 'default/pod-to-a-allowed-cnp', 'default/echo-a'), egress_allowed_by: [{ name: 'pod-to-a-allowed-cnp', namespace: 'default' }] },
      { ...flow('f5', 'default/pod-to-b', 'default/echo-b', { verdict: 'DROPPED' }), drop_reason_desc: 'POLICY_DENIED' },
      flow('f6', 'default/pod-to-b', 'default/echo-b'),
    ];
    render(<FlowsTable flows={policyFlows} columns={['verdict', 'policy']} selectedFlow={undefined} onSelectFlow={vi.fn()} onToggleColumn={vi.fn()} />);
    expect(screen.getAllByTestId('flow-row').map((row) => within(row).getAllByRole('cell')[1]?.textContent)).toEqual([
      'default/pod-to-a-l3-denied-cnp (egress denied)',
      'default/pod-to-a-allowed-cnp (egress allowed)',
      'POLICY_DENIED',
      '',
    ]);
  });

  it('opens a flow on click and on Enter', () => {
    const onSelectFlow = vi.fn();
    render(<FlowsTable flows={flows} columns={DEFAULT_COLUMNS} selectedFlow={undefined} onSelectFlow={onSelectFlow} onToggleColumn={vi.fn()} />);
    const [first, second] = screen.getAllByTestId('flow-row');
    fireEvent.click(first!);
    fireEvent.keyDown(second!, { key: 'Enter' });
    expect(onSelectFlow.mock.calls).toEqual([['f1'], ['f2']]);
  });

  it('lets the user pick columns', () => {
    const onToggleColumn = vi.fn();
    render(<FlowsTable flows={flows} columns={['sourcePod', 'verdict']} selectedFlow={undefined} onSelectFlow={vi.fn()} onToggleColumn={onToggleColumn} />);
    expect(screen.getAllByRole('columnheader')).toHaveLength(2);
    fireEvent.click(screen.getByRole('checkbox', { name: 'TCP Flags' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Policy' }));
    expect(onToggleColumn.mock.calls).toEqual([['tcpFlags', true], ['policy', true]]);
  });
});
