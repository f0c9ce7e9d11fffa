import { setTimeout as sleep } from 'node:timers/promises';
import { readyPodKeys, deploymentStatuses } from './labStatus.ts';
import { readLabState, type LabState } from './state.ts';
import { formatStatusTable, type DeploymentStatus } from './statusTable.ts';

/** One check of the connectivity test: a Deployment of the checked namespace and its pods' last probes. */
export interface ConnectivityCheck {
  readonly status: DeploymentStatus;
  readonly passed: boolean;
  /** The last readiness-probe outcome of each container of its pods (what a failure shows). */
  readonly probes: readonly { ok: boolean; detail: string }[];
}

export interface ConnectivityReport {
  readonly checks: readonly ConnectivityCheck[];
  readonly passed: boolean;
  /** The seed's table, a blank line, and the summary with a line per failed check. */
  readonly text: string;
}

/**
 * The checks are the Deployments of `namespace` (the connectivity-check's
 * servers and probes): one passes when all its replicas are Ready, which for
 * a probe means its HTTP GET has the outcome the manifest expects (answered,
 * or refused for pod-to-a-l3-denied-cnp).
 */
export function evaluateChecks(state: LabState, readyPods: ReadonlySet<string>, namespace: string): ConnectivityCheck[] {
  return deploymentStatuses(state, readyPods)
    .filter((d) => d.namespace === namespace)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((status) => ({
      status,
      passed: status.replicas > 0 && status.ready === status.replicas,
      probes: state.pods.filter((p) => p.owner === `Deployment/${status.namespace}/${status.name}`).flatMap((p) => p.probes ?? []),
    }));
}

export function formatConnectivityReport(checks: readonly ConnectivityCheck[], nowMs: number): string {
  const table = formatStatusTable(
    checks.map((c) => c.status),
    nowMs,
  );
  const failed = checks.filter((c) => !c.passed);
  if (checks.length === 0) return `${table}\n\n❌ no checks: the namespace has no Deployments`;
  if (failed.length === 0) return `${table}\n\n✅ All ${checks.length} checks passed`;
  const width = Math.max(...failed.map((c) => c.status.name.length));
  const lines = failed.map((c) => {
    const why = c.probes.find((p) => !p.ok)?.detail ?? c.probes[0]?.detail ?? 'not ready (no probe outcome yet)';
    return `  ${c.status.name.padEnd(width)}   ${c.status.ready}/${c.status.replicas}   ${why}`;
  });
  return `${table}\n\n❌ ${failed.length}/${checks.length} checks failed:\n${lines.join('\n')}`;
}

export interface ConnectivityTestOptions {
  /** Namespace whose Deployments are the checks (default `default`, where the connectivity-check runs). */
  readonly namespace?: string;
  /** How long to wait for every check to pass (default 60 s). */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
}

/**
 * `tycho connectivity test`: waits until every check of the running lab
 * passes or the timeout ends, then reports. Throws when no lab is running.
 */
export async function connectivityTest(opts: ConnectivityTestOptions = {}): Promise<ConnectivityReport> {
  const namespace = opts.namespace ?? 'default';
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const state = readLabState();
    if (!state) throw new Error('no lab is running (start one with: tycho lab up)');
    if (state.phase === 'failed' || state.phase === 'stopping') throw new Error(`the lab is ${state.phase}${state.error ? `: ${state.error}` : ''}`);
    const checks = evaluateChecks(state, readyPodKeys(state), namespace);
    const passed = state.phase === 'running' && checks.length > 0 && checks.every((c) => c.passed);
    if (passed || Date.now() >= deadline) {
      return { checks, passed, text: formatConnectivityReport(checks, Date.now()) };
    }
    await sleep(Math.min(opts.pollMs ?? 1000, Math.max(0, deadline - Date.now())));
  }
}
