import { describe, expect, it } from 'vitest';
import { formatStatusTable, humanDuration, type DeploymentStatus } from './statusTable.ts';

const row = (name: string, ready: number, namespace = 'default'): DeploymentStatus => ({
  namespace,
  name,
  replicas: 1,
  upToDate: 1,
  ready,
  available: ready,
  createdAtMs: 0,
});

describe('formatStatusTable', () => {
  it('prints kubectl’s deployment columns aligned, sorted by name', () => {
    const table = formatStatusTable([row('pod-to-a', 1), row('echo-a', 0)], 16 * 86_400_000);
    expect(table).toBe(
      ['NAME       READY   UP-TO-DATE   AVAILABLE   AGE', 'echo-a     0/1     1            0           16d', 'pod-to-a   1/1     1            1           16d'].join('\n'),
    );
  });

  it('adds a NAMESPACE column for all namespaces', () => {
    const table = formatStatusTable([row('coredns', 2, 'kube-system')], 5_000, { allNamespaces: true });
    expect(table.split('\n')[1]).toMatch(/^kube-system\s+coredns\s+2\/1\s+1\s+2\s+5s$/);
  });
});

describe('humanDuration', () => {
  it('formats ages like kubectl', () => {
    expect([45e3, 150e3, 600e3, 3 * 3600e3 + 60e3, 9 * 3600e3, 50 * 3600e3, 16 * 86400e3].map(humanDuration)).toEqual([
      '45s',
      '2m30s',
      '10m',
      '3h1m',
      '9h',
      '2d2h',
      '16d',
    ]);
  });
});
