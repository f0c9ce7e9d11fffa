// A resilient informer: lists a collection of the Kubernetes API, then watches it from the list's
// resourceVersion, and keeps a local cache of the objects that handlers and readers share.
//
// Built on @kubernetes/client-node's `Watch` (the watch stream) and `KubeConfig` (request signing)
// rather than its `ListWatch`, because ListWatch cannot do what Tycho's agent needs: it gives no
// signal when the first list is in the cache (so no "synced"), drops the previous object of an
// update, never asks for bookmarks (so a quiet selective watch resumes from an old version and
// relists after every cut), stops for good on the first error, and lists in one request. This
// informer resumes a cut watch from the last resourceVersion it saw (bookmarks included), relists
// on 410 Gone and reports what the gap deleted, retries every other failure with exponential
// backoff and jitter, and lists in pages.
import type { KubeConfig, KubernetesObject, Watch } from '@kubernetes/client-node';
import { z } from 'zod';

import { apiRequest, isGone, KubeApiError } from './apiRequest.ts';
import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.ts';

export type InformerEvent<T> =
  | { type: 'add'; object: T }
  | { type: 'update'; object: T; previous: T }
  | { type: 'delete'; object: T }
  /** Every cached object again, each resync interval: handlers re-check what they derived from it. */
  | { type: 'resync'; object: T };

export type InformerListener<T> = (event: InformerEvent<T>) => void;

export interface InformerOptions {
  kubeConfig: KubeConfig;
  /** The collection's path, e.g. `/api/v1/pods` or `/apis/cilium.io/v2/namespaces/default/ciliumnetworkpolicies`. */
  path: string;
  labelSelector?: string;
  /** E.g. `spec.nodeName=node-1` for the pods of one node. */
  fieldSelector?: string;
  /** Re-deliver every cached object as a `resync` event this often; 0 or absent: never. */
  resyncIntervalMs?: number;
  /** Objects per list page (`limit`); default 500. */
  pageSize?: number;
  /** The watch's timeoutSeconds; default a random 300–600 s, so many agents do not re-watch at once. */
  watchTimeoutSeconds?: number;
  backoff?: Partial<BackoffOptions>;
  /** For jitter; in [0, 1). */
  random?: () => number;
  /** Each failure, with the wait before the retry; by default a line on stderr. */
  onError?: (error: Error, retryInMs: number) => void;
  /** Names the informer in error messages; defaults to the path. */
  name?: string;
}

const objectMetaSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  resourceVersion: z.string().optional(),
});

const listSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.looseObject({ resourceVersion: z.string().optional(), continue: z.string().optional() }).optional(),
  items: z.array(z.unknown()).nullable().optional(),
});

const objectSchema = z.looseObject({ metadata: objectMetaSchema });
const bookmarkSchema = z.looseObject({ metadata: z.looseObject({ resourceVersion: z.string() }) });
const statusSchema = z.looseObject({ code: z.number().optional(), reason: z.string().optional(), message: z.string().optional() });

/** A watch that ends sooner than this without one event counts as a failure, so a server that closes every watch is not hammered. */
const shortestHealthyWatchMs = 1000;

function describe(error: unknown): string {
  if (error instanceof z.ZodError) return `unexpected answer: ${error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`;
  return (error as Error).message ?? String(error);
}

export function createInformer<T extends KubernetesObject>(options: InformerOptions) {
  const name = options.name ?? options.path;
  const backoff: BackoffOptions = { ...defaultBackoff, ...options.backoff };
  const random = options.random ?? Math.random;
  const pageSize = options.pageSize ?? 500;
  const onError = options.onError ?? ((error: Error, retryInMs: number) => process.stderr.write(`informer ${name}: ${error.message}; retrying in ${retryInMs} ms\n`));
  let watcher: Watch | undefined;
  /** namespace ('' for cluster-scoped objects) → name → object: the cache and its namespace index in one. */
  const byNamespace = new Map<string, Map<string, T>>();
  const listeners = new Set<InformerListener<T>>();
  let resourceVersion: string | undefined;
  let hasSynced = false;
  let closed = false;
  let objectCount = 0;
  /** Aborts whatever the informer is waiting on: a list request, a watch or a backoff sleep. */
  const interrupt = new AbortController();

  let resolveSynced: () => void = () => {};
  let rejectSynced: (error: Error) => void = () => {};
  const synced = new Promise<void>((resolve, reject) => {
    resolveSynced = resolve;
    rejectSynced = reject;
  });
  // Closing before the first list rejects `synced`; nobody need be waiting for that.
  synced.catch(() => {});

  function emit(event: InformerEvent<T>): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        onError(new Error(`a ${event.type} handler threw: ${describe(error)}`), 0);
      }
    }
  }

  function cached(namespace: string, objectName: string): T | undefined {
    return byNamespace.get(namespace)?.get(objectName);
  }

  function store(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    let names = byNamespace.get(namespace);
    if (!names) {
      names = new Map();
      byNamespace.set(namespace, names);
    }
    if (!names.has(object.metadata?.name ?? '')) objectCount += 1;
    names.set(object.metadata?.name ?? '', object);
  }

  function forget(namespace: string, objectName: string): void {
    const names = byNamespace.get(namespace);
    if (!names?.delete(objectName)) return;
    objectCount -= 1;
    if (names.size === 0) byNamespace.delete(namespace);
  }

  function upsert(object: T): void {
    const previous = cached(object.metadata?.namespace ?? '', object.metadata?.name ?? '');
    // The same version again (a relist of an unchanged object) is no change.
    if (previous && previous.metadata?.resourceVersion !== undefined && previous.metadata.resourceVersion === object.metadata?.resourceVersion) return;
    store(object);
    emit(previous ? { type: 'update', object, previous } : { type: 'add', object });
  }

  function remove(object: T): void {
    const namespace = object.metadata?.namespace ?? '';
    const objectName = object.metadata?.name ?? '';
    if (!cached(namespace, objectName)) return;
    forget(namespace, objectName);
    emit({ type: 'delete', object });
  }

  /** Lists every page, then makes the cache equal to the list, reporting each difference as an event. */
  async function relist(): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let listVersion = '';
    do {
      const page = listSchema.parse(
        await apiRequest(options.kubeConfig, {
          method: 'GET',
          path: options.path,
          query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: String(pageSize), continue: continueToken },
          signal: interrupt.signal,
        }),
      );
      // List items carry no apiVersion and kind in kube-apiserver's answers; watch events do. Give them the list's.
      const kind = page.kind?.replace(/List$/, '');
      for (const item of page.items ?? []) {
        const checked = objectSchema.safeParse(item);
        // An object without a name cannot be cached or watched; the rest of the list still can.
        if (!checked.success) onError(new Error(`list ${options.path}: an item was skipped: ${describe(checked.error)}`), 0);
        else items.push({ ...(page.apiVersion ? { apiVersion: page.apiVersion } : {}), ...(kind ? { kind } : {}), ...(item as object) } as T);
      }
      continueToken = page.metadata?.continue || undefined;
      listVersion = page.metadata?.resourceVersion ?? '';
    } while (continueToken !== undefined && !closed);
    if (closed) return;
    const listed = new Set(items.map((item) => `${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`));
    for (const [namespace, names] of [...byNamespace]) {
      for (const [objectName, object] of [...names]) if (!listed.has(`${namespace}/${objectName}`)) remove(object);
    }
    for (const item of items) upsert(item);
    resourceVersion = listVersion || undefined;
    if (!hasSynced) {
      hasSynced = true;
      resolveSynced();
    }
    // A watch from no version would start at "now" and miss what changed since the list: list again, after a pause.
    if (resourceVersion === undefined) throw new Error(`list ${options.path}: the answer carries no metadata.resourceVersion to watch from`);
  }

  interface WatchOutcome {
    events: number;
    gone: boolean;
    startedAt: number;
  }

  /** One watch from `resourceVersion` until the server ends it (resolves) or it fails (rejects). */
  function watchOnce(): Promise<WatchOutcome> {
    const outcome: WatchOutcome = { events: 0, gone: false, startedAt: Date.now() };
    const timeoutSeconds = options.watchTimeoutSeconds ?? 300 + Math.floor(random() * 300);
    return new Promise<WatchOutcome>((resolve, reject) => {
      let failure: Error | undefined;
      let controller: AbortController | undefined;
      let finished = false;
      // A connection that died without a FIN sends nothing, not even the end at timeoutSeconds.
      const stalled = setTimeout(() => {
        failure = new Error(`the watch sent nothing for ${timeoutSeconds + 30} s, past its timeoutSeconds`);
        controller?.abort();
      }, (timeoutSeconds + 30) * 1000);
      const onInterrupt = () => controller?.abort();
      interrupt.signal.addEventListener('abort', onInterrupt);
      const finish = (error: unknown) => {
        if (finished) return;
        finished = true;
        clearTimeout(stalled);
        interrupt.signal.removeEventListener('abort', onInterrupt);
        const statusCode = (error as { statusCode?: number } | null)?.statusCode;
        if (outcome.gone || statusCode === 410) resolve({ ...outcome, gone: true });
        else if (failure) reject(failure);
        else if (error) reject(statusCode ? new KubeApiError(statusCode, '', `watch ${options.path}: ${statusCode} ${(error as Error).message}`) : error);
        else resolve(outcome);
      };
      const handle = (type: string, object: unknown) => {
        if (finished || failure || outcome.gone) return;
        try {
          if (type === 'ERROR') {
            const status = statusSchema.parse(object);
            if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') outcome.gone = true;
            else failure = new KubeApiError(status.code ?? 500, status.reason ?? '', `watch ${options.path}: ${status.code ?? ''} ${status.reason ?? ''}: ${status.message ?? ''}`);
            controller?.abort();
            return;
          }
          outcome.events += 1;
          if (type === 'BOOKMARK') {
            resourceVersion = bookmarkSchema.parse(object).metadata.resourceVersion;
            return;
          }
          objectSchema.parse(object);
          const parsed = object as T;
          if (type === 'ADDED' || type === 'MODIFIED') upsert(parsed);
          else if (type === 'DELETED') remove(parsed);
          else throw new Error(`unknown watch event type "${type}"`);
          resourceVersion = parsed.metadata?.resourceVersion ?? resourceVersion;
        } catch (error) {
          // A malformed event cannot be applied, and skipping it would leave the cache wrong: relist.
          failure = new Error(`watch ${options.path}: ${describe(error)}`);
          resourceVersion = undefined;
          controller?.abort();
        }
      };
      if (!watcher) throw new Error('the informer watches before it has loaded client-node');
      watcher
        .watch(
          options.path,
          {
            resourceVersion,
            allowWatchBookmarks: 'true',
            timeoutSeconds: String(timeoutSeconds),
            labelSelector: options.labelSelector,
            fieldSelector: options.fieldSelector,
          },
          handle,
          finish,
        )
        .then(
          (started) => {
            controller = started;
            if (finished || closed || failure || outcome.gone) started.abort();
          },
          finish,
        );
    });
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        interrupt.signal.removeEventListener('abort', done);
        resolve();
      }
      interrupt.signal.addEventListener('abort', done);
    });
  }

  async function run(): Promise<void> {
    // client-node loads its whole API model on import (most of a second): only once an informer runs,
    // not in every process that imports this package (the CLI does).
    const { Watch } = await import('@kubernetes/client-node');
    watcher = new Watch(options.kubeConfig);
    let failures = 0;
    while (!closed) {
      try {
        if (resourceVersion === undefined) {
          await relist();
          failures = 0;
          continue;
        }
        const outcome = await watchOnce();
        if (closed) return;
        if (outcome.gone) {
          resourceVersion = undefined;
          continue;
        }
        if (outcome.events === 0 && Date.now() - outcome.startedAt < shortestHealthyWatchMs) {
          throw new Error(`watch ${options.path} ended at once without an event`);
        }
        failures = 0;
      } catch (error) {
        if (closed) return;
        const failure = error instanceof Error ? error : new Error(String(error));
        // A too-old version in a list's continue token: start the list over, after a pause like any failure.
        if (isGone(failure)) resourceVersion = undefined;
        const wait = backoffDelay(failures, backoff, random);
        failures += 1;
        onError(new Error(describe(failure)), wait);
        await sleep(wait);
      }
    }
  }

  const resyncTimer =
    options.resyncIntervalMs && options.resyncIntervalMs > 0
      ? setInterval(() => {
          if (!hasSynced || closed) return;
          for (const names of byNamespace.values()) for (const object of names.values()) emit({ type: 'resync', object });
        }, options.resyncIntervalMs)
      : undefined;
  resyncTimer?.unref();
  const running = run();

  function list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(byNamespace.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const names of byNamespace.values()) all.push(...names.values());
    return all;
  }

  return {
    name,
    /** Resolves once the first list is in the cache (and its add events delivered); rejects if closed before. */
    synced,
    get hasSynced(): boolean {
      return hasSynced;
    },
    /** Every cached object, or those of one namespace (the namespace index). The objects are the cache's own: read, never change them. */
    list,
    /** A cached object; `namespace` is '' for cluster-scoped kinds. */
    get: (namespace: string, objectName: string): T | undefined => cached(namespace, objectName),
    /** The namespaces that hold at least one cached object. */
    namespaces: (): string[] => [...byNamespace.keys()],
    get size(): number {
      return objectCount;
    },
    /** The last resourceVersion seen (list, event or bookmark); undefined until the first list and while a relist is due. */
    get resourceVersion(): string | undefined {
      return resourceVersion;
    },
    /** Change events, in the order the server reported the changes. Returns the unsubscribe function. */
    subscribe(listener: InformerListener<T>): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(resyncTimer);
      if (!hasSynced) rejectSynced(new Error(`informer ${name} closed before it synced`));
      interrupt.abort();
      await running;
    },
  } as const;
}

export type Informer<T extends KubernetesObject> = ReturnType<typeof createInformer<T>>;
