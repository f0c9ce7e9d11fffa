import { dropReasonDescription, l4Summary, type Endpoint, type Flow } from '@tycho/flow';
import { formatFlowTime, l7InfoOf } from '../../domain/flowColumns.ts';
import { flowPolicyEntries, policyName, type PolicyEntry } from '../../domain/policyDisplay.ts';

export interface FlowDetailProps {
  flow: Flow;
  onClose: () => void;
}

function EndpointRows({ title, endpoint, ip, names }: { title: string; endpoint: Endpoint | undefined; ip: string | undefined; names: string[] | undefined }) {
  return (
    <>
      <dt className="section">{title}</dt>
      <dd className="section" />
      <dt>Pod</dt><dd>{endpoint?.pod_name ? `${endpoint.namespace ?? ''}/${endpoint.pod_name}` : '—'}</dd>
      <dt>IP</dt><dd>{ip ?? '—'}</dd>
      <dt>Identity</dt><dd>{endpoint?.identity ?? '—'}</dd>
      <dt>Workloads</dt><dd>{endpoint?.workloads?.map((w) => `${w.kind}/${w.name}`).join(', ') || '—'}</dd>
      <dt>Labels</dt><dd>{endpoint?.labels?.length ? <ul className="labels">{endpoint.labels.map((label) => <li key={label}>{label}</li>)}</ul> : '—'}</dd>
      {names && names.length > 0 && (<><dt>DNS names</dt><dd>{names.join(', ')}</dd></>)}
    </>
  );
}

/** The policies of one effect (allowed or denied), each with its direction and kind. */
function PolicyRows({ title, entries }: { title: string; entries: PolicyEntry[] }) {
  return (
    <>
      <dt>{title}</dt>
      <dd data-testid={`flow-${title.toLowerCase().replace(' ', '-')}`}>
        {entries.length === 0 ? '—' : (
          <ul className="labels">
            {entries.map((entry) => (
              <li key={`${entry.direction}|${entry.kind ?? ''}|${policyName(entry)}`}>
                {entry.direction}: <strong>{policyName(entry)}</strong>{entry.kind ? ` (${entry.kind})` : ''}
              </li>
            ))}
          </ul>
        )}
      </dd>
    </>
  );
}

/** One flow in full, as Hubble UI's side panel shows it, plus the policies that allowed or denied it and its JSON. */
export function FlowDetail({ flow, onClose }: FlowDetailProps) {
  const policies = flowPolicyEntries(flow);
  const denied = policies.filter((entry) => entry.effect === 'denied');
  const allowed = policies.filter((entry) => entry.effect === 'allowed');
  return (
    <aside className="panel" aria-label="Flow details" data-testid="flow-detail">
      <header className="panel-header">
        <h2>Flow</h2>
        <button type="button" onClick={onClose} aria-label="Close flow details">×</button>
      </header>
      <dl className="facts">
        <dt>Timestamp</dt><dd>{formatFlowTime(flow.time)}</dd>
        <dt>Verdict</dt><dd className={`verdict-${flow.verdict.toLowerCase()}`}>{flow.verdict}</dd>
        {flow.verdict === 'DROPPED' && (<><dt>Drop reason</dt><dd data-testid="flow-drop-reason">{flow.drop_reason_desc ?? dropReasonDescription(flow.drop_reason ?? 0)}</dd></>)}
        {(flow.verdict === 'DROPPED' || denied.length > 0) && <PolicyRows title="Denied by" entries={denied} />}
        <PolicyRows title="Allowed by" entries={allowed} />
        <dt>Node</dt><dd>{flow.node_name}</dd>
        <dt>Observation point</dt><dd>{flow.trace_observation_point ?? '—'}</dd>
        <dt>Direction</dt><dd>{flow.traffic_direction ?? '—'}{flow.is_reply ? ' (reply)' : ''}</dd>
        <dt>L4</dt><dd>{l4Summary(flow.l4) || '—'}</dd>
        <dt>L7</dt><dd>{l7InfoOf(flow) || '—'}</dd>
        {flow.traffic && (<><dt>Traffic</dt><dd>{flow.traffic.packets_fwd} pkts / {flow.traffic.bytes_fwd} B → · {flow.traffic.packets_rev} pkts / {flow.traffic.bytes_rev} B ←</dd></>)}
        <EndpointRows title="Source" endpoint={flow.source} ip={flow.IP?.source} names={flow.source_names} />
        <EndpointRows title="Destination" endpoint={flow.destination} ip={flow.IP?.destination} names={flow.destination_names} />
      </dl>
      <details>
        <summary>JSON</summary>
        <pre className="json">{JSON.stringify(flow, null, 2)}</pre>
      </details>
    </aside>
  );
}
