import { DirectoryKubeStore } from '@tycho/kube';
import { KUBE_DIR } from './paths.ts';
import { readLabState } from './state.ts';
import { formatStatusTable, type DeploymentStatus } from './statusTable.ts';

/**
 * The lab's Deployments as `kubectl get deployments` prints them
 * (`NAME READY UP-TO-DATE AVAILABLE AGE`), readiness read live from the
 * pods' Ready conditions in the API-server stand-in. Default namespace only,
 * like kubectl; `allNamespaces` adds a NAMESPACE column.
 */
export async function labStatus(opts: { namespace?: string; allNamespaces?: boolean } = {}): Promise<string> {
  const state = readLabState();
  if (!state) return 'no lab is running (start one with: tycho lab up)';
  const store = new DirectoryKubeStore(KUBE_DIR);
  const readyPods = new Set(
    store
      .listPods()
      .filter((pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`),
  );
  const namespace = opts.namespace ?? 'default';
  const rows: DeploymentStatus[] = state.deployments
    .filter((d) => opts.allNamespaces || d.namespace === namespace)
    .map((d) => {
      const owner = `Deployment/${d.namespace}/${d.name}`;
      const pods = state.pods.filter((p) => p.owner === owner);
      const ready = pods.filter((p) => readyPods.has(`${p.namespace}/${p.name}`)).length;
      return { namespace: d.namespace, name: d.name, replicas: d.replicas, upToDate: pods.length, ready, available: ready, createdAtMs: d.createdAtMs };
    });
  const table = formatStatusTable(rows, Date.now(), { allNamespaces: opts.allNamespaces });
  return state.phase === 'running' ? table : `lab is ${state.phase}\n${table}`;
}
