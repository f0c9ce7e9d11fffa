/** One Deployment's row in `lab status`, as `kubectl get deployments` shows it. */
export interface DeploymentStatus {
  readonly namespace: string;
  readonly name: string;
  /** Desired replicas. */
  readonly replicas: number;
  /** Pods created from the current template. */
  readonly upToDate: number;
  /** Pods whose Ready condition is True. */
  readonly ready: number;
  /** Ready pods counted as available (the lab has no minReadySeconds). */
  readonly available: number;
  /** Creation time, epoch ms. */
  readonly createdAtMs: number;
}

/** Kubernetes' short age format (`45s`, `3m20s`, `16d`), as kubectl prints in AGE. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join(''))
    .join('\n');
}

/**
 * The Deployment table (`NAME READY UP-TO-DATE AVAILABLE AGE`), sorted by
 * name; with `allNamespaces` a leading NAMESPACE column like `kubectl -A`.
 */
export function formatStatusTable(
  deployments: readonly DeploymentStatus[],
  nowMs: number,
  opts: { allNamespaces?: boolean } = {},
): string {
  const sorted = [...deployments].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const header = ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'];
  const rows = sorted.map((d) => [
    d.name,
    `${d.ready}/${d.replicas}`,
    String(d.upToDate),
    String(d.available),
    humanDuration(nowMs - d.createdAtMs),
  ]);
  if (opts.allNamespaces) {
    return alignColumns([['NAMESPACE', ...header], ...rows.map((row, i) => [sorted[i]?.namespace ?? '', ...row])]);
  }
  return alignColumns([header, ...rows]);
}
