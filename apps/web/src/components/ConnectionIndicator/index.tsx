import type { ConnectionState } from '../../data/streamClient.ts';

export interface ConnectionIndicatorProps {
  connection: ConnectionState;
  flowsPerSecond: number | undefined;
  connectedNodes: number | undefined;
  totalNodes: number | undefined;
  detail: string | undefined;
}

/** `12.5 flows/s · 2/2 nodes`, with the stream's state as a dot. */
export function ConnectionIndicator({ connection, flowsPerSecond, connectedNodes, totalNodes, detail }: ConnectionIndicatorProps) {
  const rate = flowsPerSecond === undefined ? '–' : flowsPerSecond >= 100 ? Math.round(flowsPerSecond).toString() : flowsPerSecond.toFixed(1);
  const nodes = connectedNodes === undefined || totalNodes === undefined ? '–/–' : `${connectedNodes}/${totalNodes}`;
  return (
    <div className={`connection connection-${connection}`} data-testid="connection-indicator" title={detail ?? `stream ${connection}`} role="status">
      <span className="dot" aria-hidden="true" />
      <span>{rate} flows/s · {nodes} nodes</span>
    </div>
  );
}
