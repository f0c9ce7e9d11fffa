import type { Card, Link } from '@tycho/servicemap';
import { formatFlowTime } from '../../domain/flowColumns.ts';
import { dropReasonsText, linkTitle, policyName } from '../../domain/policyDisplay.ts';
import { linkLabel, linkVerdictClass } from '../../domain/selection.ts';

export interface LinkPanelProps {
  link: Link;
  cards: ReadonlyMap<string, Card>;
  onClose: () => void;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** The policies that denied or allowed the link's flows, denying first, with their kind, direction and flow count. */
function LinkPolicyList({ policies }: { policies: NonNullable<Link['policies']> }) {
  return (
    <ul className="labels" aria-label="Policies">
      {policies.map((policy) => (
        <li key={`${policy.effect}|${policy.direction}|${policy.kind ?? ''}|${policyName(policy)}`} data-testid="link-policy" className={`policy-${policy.effect}`}>
          {policy.direction} {policy.effect} by <strong>{policyName(policy)}</strong>{policy.kind ? ` (${policy.kind})` : ''} · {policy.flows} flows
        </li>
      ))}
    </ul>
  );
}

/** The selected link's counters, drop reasons and policies; the flows table below narrows to its flows. */
export function LinkPanel({ link, cards, onClose }: LinkPanelProps) {
  const label = linkLabel(link, cards).replace(/^link /, '');
  return (
    <aside className="panel" aria-label={`Details of link ${label}`} data-testid="link-panel">
      <header className="panel-header">
        <h2 title={linkTitle(link, cards)}>{label}</h2>
        <button type="button" onClick={onClose} aria-label="Clear selection">×</button>
      </header>
      <dl className="facts">
        <dt>Verdict</dt><dd className={`verdict-${linkVerdictClass(link)}`}>{linkVerdictClass(link)}</dd>
        <dt>Flows</dt><dd>{link.flows} ({link.flowsPerSecond} /s over the last minute)</dd>
        <dt>Verdicts</dt><dd>{Object.entries(link.verdicts).map(([v, n]) => `${v} ${n}`).join(', ') || '—'}</dd>
        <dt>Drop reasons</dt><dd data-testid="link-drop-reasons">{dropReasonsText(link.dropReasons) || '—'}</dd>
        <dt>Policies</dt><dd>{link.policies?.length ? <LinkPolicyList policies={link.policies} /> : '—'}</dd>
        <dt>Bytes</dt><dd>{bytes(link.bytesFwd)} → · {bytes(link.bytesRev)} ←</dd>
        <dt>First seen</dt><dd>{formatFlowTime(link.firstSeen)}</dd>
        <dt>Last seen</dt><dd>{formatFlowTime(link.lastSeen)}</dd>
      </dl>
    </aside>
  );
}
