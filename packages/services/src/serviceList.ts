import { externalBackends, nodeFrontends, type FrontendType, type ServiceModel } from './serviceModel.ts';
import type { L4Protocol } from './serviceSpec.ts';

/** One row of `tycho service list` (`cilium service list`): a frontend and the backends in its slots. */
export interface ServiceListRow {
  readonly id: number;
  readonly frontend: { readonly address: string; readonly port: number; readonly protocol: L4Protocol };
  readonly type: FrontendType;
  /** In slot order; `slot` counts from 1. */
  readonly backends: readonly { readonly slot: number; readonly address: string; readonly port: number }[];
}

/**
 * The rows a node's agent lists: every frontend the node serves, by id, with
 * the backends it picks for traffic from outside (only the node's own pods for
 * `externalTrafficPolicy: Local`, so a node without one shows no backend).
 */
export function serviceListRows(model: Pick<ServiceModel, 'frontends'>, nodeName: string): ServiceListRow[] {
  return nodeFrontends(model, nodeName).map((frontend) => ({
    id: frontend.id,
    frontend: { address: frontend.address, port: frontend.port, protocol: frontend.protocol },
    type: frontend.type,
    backends: externalBackends(frontend, nodeName).map((backend, i) => ({ slot: i + 1, address: backend.address, port: backend.port })),
  }));
}

const HEADER = ['ID', 'Frontend', 'Service Type', 'Backend'] as const;
/** Column widths of the seed's table; wider cells widen their column by the same 3-space gap. */
const MIN_WIDTHS = [5, 20, 15] as const;
const GAP = 3;

/**
 * Prints rows in the layout of `cilium service list`:
 * ```
 * ID   Frontend            Service Type   Backend
 * 1    10.96.0.10:53       ClusterIP      1 => 10.244.0.98:53
 *                                         2 => 10.244.1.65:53
 * ```
 * A frontend whose address:port another row also lists with another protocol
 * (kube-dns's 53/UDP and 53/TCP) shows its protocol (`10.96.0.10:53/UDP`), so
 * the rows can be told apart; `protocols: 'always'` shows it everywhere, as
 * newer Cilium releases do. Every line ends with a newline.
 */
export function formatServiceList(rows: readonly ServiceListRow[], options: { protocols?: 'ambiguous' | 'always' } = {}): string {
  const addressPorts = new Map<string, Set<L4Protocol>>();
  for (const row of rows) {
    const key = `${row.frontend.address}:${row.frontend.port}`;
    (addressPorts.get(key) ?? addressPorts.set(key, new Set()).get(key))?.add(row.frontend.protocol);
  }
  const frontendText = (row: ServiceListRow) => {
    const base = `${row.frontend.address}:${row.frontend.port}`;
    const showProtocol = options.protocols === 'always' || (addressPorts.get(base)?.size ?? 0) > 1;
    return showProtocol ? `${base}/${row.frontend.protocol}` : base;
  };
  const cells = rows.map((row) => [String(row.id), frontendText(row), row.type] as const);
  const widths = MIN_WIDTHS.map((min, column) =>
    Math.max(min, (HEADER[column] ?? '').length + GAP, ...cells.map((c) => (c[column] ?? '').length + GAP)),
  );
  const pad = (text: string, column: number) => text.padEnd(widths[column] as number);
  const indent = ' '.repeat(widths.reduce((sum, w) => sum + w, 0));
  const lines = [`${pad(HEADER[0], 0)}${pad(HEADER[1], 1)}${pad(HEADER[2], 2)}${HEADER[3]}`];
  rows.forEach((row, i) => {
    const [id, frontend, type] = cells[i] as readonly [string, string, string];
    const lead = `${pad(id, 0)}${pad(frontend, 1)}${pad(type, 2)}`;
    const backendLines = row.backends.map((b) => `${b.slot} => ${b.address}:${b.port}`);
    lines.push(`${lead}${backendLines[0] ?? ''}`.trimEnd());
    for (const line of backendLines.slice(1)) lines.push(`${indent}${line}`);
  });
  return lines.map((line) => `${line}\n`).join('');
}
