import { describe, expect, it } from 'vitest';
import { evaluateChecks, formatConnectivityReport } from './connectivity.ts';
import type { LabState, PodState } from './state.ts';

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function pod(namespace: string, deployment: string, ready: boolean, probes?: PodState['probes']): PodState {
  return {
    namespace,
    name: `${deployment}-5f7c9d-abcde`,
    owner: `Deployment/${namespace}/${deployment}`,
    node: 'node-1',
    netns: `tycho-pod-${deployment}`,
    hostNetwork: false,
    ip: '10.244.0.9',
    containerId: deployment,
    cgroup: '',
    pids: [1],
    ready,
    restarts: 0,
    logFile: '/dev/null',
    ...(probes ? { probes } : {}),
  };
}

function state(pods: PodState[]): LabState {
  const deployments = [...new Set(pods.map((p) => p.owner))].map((owner) => {
    const [, namespace = '', name = ''] = owner.split('/');
    return { namespace, name, replicas: 1, createdAtMs: T0 };
  });
  return { phase: 'running', supervisorPid: 1, startedAtMs: T0, manifests: [], nodes: [], world: { netns: 'tycho-world' }, deployments, pods, pending: [] };
}

const readyOf = (s: LabState) => new Set(s.pods.filter((p) => p.ready).map((p) => `${p.namespace}/${p.name}`));

describe('connectivity test report', () => {
  it('passes when every Deployment of the namespace is ready, and ignores other namespaces', () => {
    const s = state([
      pod('default', 'echo-a', true),
      pod('default', 'pod-to-a', true, [{ ok: true, detail: 'GET http://echo-a:8080/public (10.244.0.7) → 200' }]),
      pod('kube-system', 'coredns', false),
    ]);
    const checks = evaluateChecks(s, readyOf(s), 'default');
    expect(checks.map((c) => [c.status.name, c.passed])).toEqual([
      ['echo-a', true],
      ['pod-to-a', true],
    ]);
    expect(formatConnectivityReport(checks, T0 + 65_000)).toBe(
      [
        'NAME       READY   UP-TO-DATE   AVAILABLE   AGE',
        'echo-a     1/1     1            1           65s',
        'pod-to-a   1/1     1            1           65s',
        '',
        '✅ All 2 checks passed',
      ].join('\n'),
    );
  });

  it('lists each failed check with its probe outcome', () => {
    const s = state([
      pod('default', 'echo-a', true),
      pod('default', 'pod-to-a-l3-denied-cnp', false, [{ ok: false, detail: '! (GET http://echo-a:8080/public (10.244.0.7) → 200)' }]),
      pod('default', 'pod-to-b-multi-node-nodeport', false),
    ]);
    const text = formatConnectivityReport(evaluateChecks(s, readyOf(s), 'default'), T0 + 1000);
    expect(text.split('\n').slice(-3)).toEqual([
      '❌ 2/3 checks failed:',
      '  pod-to-a-l3-denied-cnp         0/1   ! (GET http://echo-a:8080/public (10.244.0.7) → 200)',
      '  pod-to-b-multi-node-nodeport   0/1   not ready (no probe outcome yet)',
    ]);
  });

  it('fails with no checks when the namespace has no Deployments', () => {
    const s = state([pod('default', 'echo-a', true)]);
    const checks = evaluateChecks(s, readyOf(s), 'nowhere');
    expect(checks).toEqual([]);
    expect(formatConnectivityReport(checks, T0)).toContain('❌ no checks');
  });
});
