import { readLabState, type LabState } from './state.ts';
import { formatStatusTable, type DeploymentStatus } from './statusTable.ts';

/** `<namespace>/<name>` of the pods the lab reports Ready (what it writes as their Ready condition). */
export function readyPodKeys(state: LabState): Set<string> {
  return new Set(state.pods.filter((pod) => pod.ready).map((pod) => `${pod.namespace}/${pod.name}`));
}

/** Each Deployment of the lab with its pods' readiness, as `kubectl get deployments` counts it. */
export function deploymentStatuses(state: LabState, readyPods: ReadonlySet<string>): DeploymentStatus[] {
  return state.deployments.map((d) => {
    const owner = `Deployment/${d.namespace}/${d.name}`;
    const pods = state.pods.filter((p) => p.owner === owner);
    const ready = pods.filter((p) => readyPods.has(`${p.namespace}/${p.name}`)).length;
    return { namespace: d.namespace, name: d.name, replicas: d.replicas, upToDate: pods.length, ready, available: ready, createdAtMs: d.createdAtMs };
  });
}

/**
 * The lab's Deployments as `kubectl get deployments` prints them
 * (`NAME READY UP-TO-DATE AVAILABLE AGE`), readiness read live from the
 * pods' readiness as the lab reports it. Default namespace only,
 * like kubectl; `allNamespaces` adds a NAMESPACE column.
 */
export async function labStatus(opts: { namespace?: string; allNamespaces?: boolean } = {}): Promise<string> {
  const state = readLabState();
  if (!state) return 'no lab is running (start one with: tycho lab up)';
  const namespace = opts.namespace ?? 'default';
  const rows = deploymentStatuses(state, readyPodKeys(state)).filter((d) => opts.allNamespaces || d.namespace === namespace);
  const table = formatStatusTable(rows, Date.now(), { allNamespaces: opts.allNamespaces });
  return state.phase === 'running' ? table : `lab is ${state.phase}\n${table}`;
}
