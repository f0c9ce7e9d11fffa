// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flow } from '../../testing/mapFixtures.ts';
import { FlowDetail } from './index.tsx';

afterEach(cleanup);

const cnp = (name: string) => ({ name, namespace: 'default', kind: 'CiliumNetworkPolicy', revision: 1, labels: [] });

describe('FlowDetail', () => {
  it('shows a policy drop’s reason and the denying policy with its direction and kind', () => {
    const dropped = { ...flow('f1', 'default/pod-to-a-l3-denied-cnp', 'default/echo-a', { verdict: 'DROPPED' }), drop_reason_desc: 'POLICY_DENIED', egress_denied_by: [cnp('pod-to-a-l3-denied-cnp')] };
    render(<FlowDetail flow={dropped} onClose={vi.fn()} />);
    expect(screen.getByTestId('flow-drop-reason').textContent).toBe('POLICY_DENIED');
    expect(screen.getByTestId('flow-denied-by').textContent).toBe('egress: default/pod-to-a-l3-denied-cnp (CiliumNetworkPolicy)');
    expect(screen.getByTestId('flow-allowed-by').textContent).toBe('—');
  });

  it('shows the policies that allowed a forwarded flow and no Denied by row', () => {
    const allowed = {
      ...flow('f2', 'default/pod-to-a-allowed-cnp', 'default/echo-a'),
      egress_allowed_by: [cnp('pod-to-a-allowed-cnp')],
      ingress_allowed_by: [{ name: 'allow-all', kind: 'CiliumClusterwideNetworkPolicy' }],
    };
    render(<FlowDetail flow={allowed} onClose={vi.fn()} />);
    expect(screen.queryByTestId('flow-denied-by')).toBeNull();
    expect(screen.getByTestId('flow-allowed-by').textContent).toBe('egress: default/pod-to-a-allowed-cnp (CiliumNetworkPolicy)ingress: allow-all (CiliumClusterwideNetworkPolicy)');
  });
});
