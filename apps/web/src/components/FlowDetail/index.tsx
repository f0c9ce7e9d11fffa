import { dropReasonDescription, l4Summary, type Endpoint, type Flow } from '@tycho/flow';
import { formatFlowTime, l7InfoOf } from '../../domain/flowColumns.ts';

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

/** One flow in full, as Hubble UI's side panel shows it, plus its JSON. */
export function FlowDetail({ flow, onClose }: FlowDetailProps) {
  return (
    <aside className="panel" aria-label="Flow details" data-testid="flow-detail">
      <header className="panel-header">
        <h2>Flow</h2>
        <button type="button" onClick={onClose} aria-label="Close flow details">×</button>
      </header>
      <dl className="facts">
        <dt>Timestamp</dt><dd>{formatFlowTime(flow.time)}</dd>
        <dt>Verdict</dt><dd className={`verdict-${flow.verdict.toLowerCase()}`}>{flow.verdict}</dd>
        {flow.verdict === 'DROPPED' && (<><dt>Drop reason</dt><dd>{flow.drop_reason_desc ?? dropReasonDescription(flow.drop_reason ?? 0)}</dd></>)}
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
