import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  CoreV1Api,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { CRD_DIR } from './paths.ts';

/** The field manager of every write the lab makes (server-side apply). */
export const LAB_FIELD_MANAGER = 'tycho-lab';
const RETRY_DELAY_MS = 1000;
const CRD_ESTABLISHED_TIMEOUT_MS = 10_000;

/** An object the lab wants in the API; `status` goes through the status subresource (pods, nodes, services). */
export interface DesiredObject extends KubernetesObject {
  readonly status?: unknown;
}

function objectKey(object: KubernetesObject): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/**
 * The lab's one writer of cluster objects into its Kubernetes API, standing
 * in for what kubectl, the scheduler, the kubelets and the EndpointSlice
 * controller write in a cluster (later steps replace parts of it with lab
 * controllers). Objects are written by server-side apply as `tycho-lab`,
 * so a write is create-or-update and repeating it is harmless; `put` and
 * `remove` only record what is wanted, one loop writes the latest wish per
 * object in order and retries what failed (e.g. while the API server
 * restarts).
 */
export function createLabClusterWriter(kubeConfig: KubeConfig, log: (line: string) => void) {
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const applyHeader = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  /** key → the object to apply, or `undefined` to delete. */
  const wanted = new Map<string, DesiredObject | undefined>();
  const written = new Map<string, KubernetesObject>();
  let running: Promise<void> | undefined;
  let closed = false;
  let lastError = '';

  async function applyStatus(object: DesiredObject): Promise<void> {
    const name = object.metadata?.name ?? '';
    const namespace = object.metadata?.namespace ?? '';
    const body = { apiVersion: object.apiVersion, kind: object.kind, metadata: { name, ...(namespace ? { namespace } : {}) }, status: object.status };
    const params = { name, namespace, body, fieldManager: LAB_FIELD_MANAGER, force: true };
    if (object.kind === 'Pod') await core.patchNamespacedPodStatus(params, applyHeader);
    else if (object.kind === 'Node') await core.patchNodeStatus(params, applyHeader);
    else if (object.kind === 'Service') await core.patchNamespacedServiceStatus(params, applyHeader);
    else throw new Error(`the lab writes no status of ${object.kind}`);
  }

  async function write(key: string, object: DesiredObject | undefined): Promise<void> {
    if (object === undefined) {
      const previous = written.get(key);
      if (!previous) return;
      try {
        await objects.delete({ apiVersion: previous.apiVersion, kind: previous.kind, metadata: { name: previous.metadata?.name, namespace: previous.metadata?.namespace } });
      } catch (error) {
        if (!(error instanceof ApiException && error.code === 404)) throw error;
      }
      written.delete(key);
      return;
    }
    const { status, ...rest } = object;
    await objects.patch(rest, undefined, undefined, LAB_FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    if (status !== undefined) await applyStatus(object);
    written.set(key, object);
  }

  async function drain(): Promise<void> {
    while (!closed && wanted.size > 0) {
      const [key, object] = wanted.entries().next().value as [string, DesiredObject | undefined];
      wanted.delete(key);
      try {
        await write(key, object);
        lastError = '';
      } catch (error) {
        const message = error instanceof ApiException ? `${error.code}: ${String(error.body).slice(0, 300)}` : (error as Error).message;
        // One line per distinct failure, not one per retry.
        if (message !== lastError) log(`cannot write ${key} to the Kubernetes API (retrying): ${message}`);
        lastError = message;
        if (!wanted.has(key)) wanted.set(key, object);
        await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
      }
    }
  }

  function kick(): void {
    running ??= drain().finally(() => {
      running = undefined;
      if (!closed && wanted.size > 0) kick();
    });
  }

  return {
    /** Wants the object in the API as given (create or update). */
    put(object: DesiredObject): void {
      wanted.set(objectKey(object), object);
      kick();
    },
    /** Wants the object, if the lab wrote it, gone. */
    remove(object: KubernetesObject): void {
      wanted.set(objectKey(object), undefined);
      kick();
    },
    /** Resolves once every wish so far is written. */
    async flushed(): Promise<void> {
      while (running) await running;
    },
    /** Applies the CustomResourceDefinitions the lab API serves (Cilium's cilium.io/v2) and waits until each is Established. */
    async applyCustomResourceDefinitions(): Promise<void> {
      const crds = readdirSync(CRD_DIR)
        .filter((file) => file.endsWith('.yaml'))
        .flatMap((file) => loadAllYaml(readFileSync(join(CRD_DIR, file), 'utf8')) as KubernetesObject[]);
      for (const crd of crds) await objects.patch(crd, undefined, undefined, LAB_FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      const deadline = Date.now() + CRD_ESTABLISHED_TIMEOUT_MS;
      for (const crd of crds) {
        for (;;) {
          const current = (await objects.read({ apiVersion: crd.apiVersion ?? '', kind: crd.kind ?? '', metadata: { name: crd.metadata?.name ?? '' } })) as { status?: { conditions?: { type: string; status: string }[] } };
          if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
          if (Date.now() > deadline) throw new Error(`CustomResourceDefinition ${crd.metadata?.name} is not Established after ${CRD_ESTABLISHED_TIMEOUT_MS / 1000} s`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    /** Stops writing (what is still wanted is dropped: the lab is going away). */
    close(): void {
      closed = true;
      wanted.clear();
    },
  } as const;
}

export type LabClusterWriter = ReturnType<typeof createLabClusterWriter>;
