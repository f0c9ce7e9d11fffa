import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { V1Pod } from '@kubernetes/client-node';
import type { KubeObject } from '@tycho/lab-apiserver';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { kubeConfigForServer } from './kubeConfig.ts';
import { createInformer, type Informer, type InformerEvent, type InformerOptions } from './informer.ts';
import { freePort, pod, startTestApiServer, type TestApiServer, type TestApiServerOptions } from './labApiServer.fixture.ts';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: TestApiServerOptions = {}): Promise<TestApiServer> {
  const started = await startTestApiServer(options);
  cleanups.push(() => started.close());
  return started;
}

interface Recorded {
  informer: Informer<V1Pod>;
  events: InformerEvent<V1Pod>[];
  errors: { message: string; retryInMs: number }[];
}

async function podInformer(kubeConfigServer: string, options: Partial<InformerOptions> = {}): Promise<Recorded> {
  const events: InformerEvent<V1Pod>[] = [];
  const errors: Recorded['errors'] = [];
  const informer = createInformer<V1Pod>({
    kubeConfig: await kubeConfigForServer(kubeConfigServer),
    path: '/api/v1/pods',
    backoff: { initialMs: 5, maxMs: 50 },
    onError: (error, retryInMs) => errors.push({ message: error.message, retryInMs }),
    ...options,
  });
  informer.subscribe((event) => events.push(event));
  cleanups.push(() => informer.close());
  return { informer, events, errors };
}

/** An event as the test compares it: what happened, to which pod, at which version. */
function summary(event: InformerEvent<V1Pod>): string {
  return `${event.type} ${event.object.metadata?.name ?? ''} ${event.object.metadata?.resourceVersion ?? ''}`;
}

function writeSummary(type: 'add' | 'update' | 'delete', object: KubeObject): string {
  return `${type} ${object.metadata.name ?? ''} ${object.metadata.resourceVersion ?? ''}`;
}

function relabel(api: TestApiServer, name: string, labels: Record<string, string>): KubeObject {
  const pods = api.resource('', 'v1', 'pods');
  const current = api.store.get(pods, 'default', name);
  return api.store.update(pods, 'default', name, { ...current, metadata: { ...current.metadata, labels } });
}

/** The server's pods as name → resourceVersion, to compare with the informer's cache. */
function serverPods(api: TestApiServer): Record<string, string> {
  const listed = api.store.list(api.resource('', 'v1', 'pods'), undefined).items;
  return Object.fromEntries(listed.map((object) => [`${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`, object.metadata.resourceVersion ?? '']));
}

function cachedPods(informer: Informer<V1Pod>): Record<string, string> {
  return Object.fromEntries(informer.list().map((object) => [`${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`, object.metadata?.resourceVersion ?? '']));
}

describe('createInformer', () => {
  it('lists, reports synced, then delivers add, update and delete in the order the server wrote them', async () => {
    const api = await server();
    const pods = api.resource('', 'v1', 'pods');
    const first = api.store.create(pods, 'default', pod('first'));
    const { informer, events } = await podInformer(api.url);
    expect(informer.hasSynced).toBe(false);
    await informer.synced;
    expect(informer.hasSynced).toBe(true);
    expect(events.map(summary)).toEqual([writeSummary('add', first)]);
    expect(informer.get('default', 'first')?.kind).toBe('Pod');

    const written = [
      writeSummary('add', api.store.create(pods, 'default', pod('second'))),
      writeSummary('update', relabel(api, 'first', { app: 'web' })),
      writeSummary('delete', api.store.delete(pods, 'default', 'second')),
    ];
    await vi.waitFor(() => expect(events.length).toBe(4));
    expect(events.slice(1).map(summary)).toEqual(written);
    const update = events[2];
    expect(update?.type === 'update' && update.previous.metadata?.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(cachedPods(informer)).toEqual(serverPods(api));
  });

  it('indexes the cache by namespace and answers get for a namespaced name', async () => {
    const api = await server();
    const namespaces = api.resource('', 'v1', 'namespaces');
    api.store.create(namespaces, '', { metadata: { name: 'shop' } });
    const pods = api.resource('', 'v1', 'pods');
    api.store.create(pods, 'default', pod('a'));
    api.store.create(pods, 'shop', pod('a', { namespace: 'shop' }));
    api.store.create(pods, 'shop', pod('b', { namespace: 'shop' }));
    const { informer } = await podInformer(api.url);
    await informer.synced;
    expect(informer.list('shop').map((object) => object.metadata?.name).sort()).toEqual(['a', 'b']);
    expect(informer.list('default').map((object) => object.metadata?.name)).toEqual(['a']);
    expect(informer.namespaces().sort()).toEqual(['default', 'shop']);
    expect(informer.get('shop', 'b')?.metadata?.namespace).toBe('shop');
    expect(informer.get('default', 'b')).toBeUndefined();
    expect(informer.size).toBe(3);
  });

  it('lists in pages when there are more objects than the page size', async () => {
    const api = await server();
    const pods = api.resource('', 'v1', 'pods');
    for (let index = 0; index < 7; index += 1) api.store.create(pods, 'default', pod(`p${index}`));
    const { informer } = await podInformer(api.url, { pageSize: 3 });
    await informer.synced;
    expect(informer.size).toBe(7);
    expect(api.requests.lists).toBe(3);
  });

  it('filters by label selector, and a pod relabelled out of the selection is a delete', async () => {
    const api = await server();
    const pods = api.resource('', 'v1', 'pods');
    const { informer, events } = await podInformer(api.url, { labelSelector: 'app=web' });
    await informer.synced;
    const web = api.store.create(pods, 'default', pod('web-1', { labels: { app: 'web' } }));
    api.store.create(pods, 'default', pod('db-1', { labels: { app: 'db' } }));
    const left = relabel(api, 'web-1', { app: 'db' });
    await vi.waitFor(() => expect(events.length).toBe(2));
    expect(events.map(summary)).toEqual([writeSummary('add', web), writeSummary('delete', left)]);
    expect(informer.size).toBe(0);
  });

  it('filters by field selector spec.nodeName: only the pods of that node', async () => {
    const api = await server();
    const pods = api.resource('', 'v1', 'pods');
    api.store.create(pods, 'default', pod('a-1', { nodeName: 'node-a' }));
    api.store.create(pods, 'default', pod('b-1', { nodeName: 'node-b' }));
    const { informer, events } = await podInformer(api.url, { fieldSelector: 'spec.nodeName=node-a' });
    await informer.synced;
    api.store.create(pods, 'default', pod('b-2', { nodeName: 'node-b' }));
    const later = api.store.create(pods, 'default', pod('a-2', { nodeName: 'node-a' }));
    await vi.waitFor(() => expect(informer.resourceVersion).toBe(later.metadata.resourceVersion));
    expect(events.map((event) => `${event.type} ${event.object.metadata?.name ?? ''}`)).toEqual(['add a-1', 'add a-2']);
  });

  it('resumes a watch cut mid-stream from the last version it saw: no event missed, none repeated', async () => {
    const api = await server();
    const pods = api.resource('', 'v1', 'pods');
    const { informer, events } = await podInformer(api.url);
    await informer.synced;
    const written: string[] = [];
    let cuts = 0;
    for (let index = 0; index < 60; index += 1) {
      const name = `p${index % 9}`;
      const existing = api.store.tryGet(pods, 'default', name);
      if (!existing) written.push(writeSummary('add', api.store.create(pods, 'default', pod(name))));
      else if (index % 3 === 0) written.push(writeSummary('delete', api.store.delete(pods, 'default', name)));
      else written.push(writeSummary('update', relabel(api, name, { step: String(index) })));
      if (index % 7 === 6) {
        // Cut while the watch is open, with the last writes possibly still on the wire; the next writes land while it is down.
        // Each cut hits a watch opened after the previous cut.
        await vi.waitFor(() => expect([api.watchCount, api.requests.watches]).toEqual([1, cuts + 1]));
        api.cutConnections();
        cuts += 1;
      }
    }
    const last = api.store.resourceVersion;
    await vi.waitFor(() => expect(informer.resourceVersion).toBe(String(last)));
    expect(events.map(summary)).toEqual(written);
    // Every cut was resumed by a watch from a version, not by a relist.
    expect(api.requests.lists).toBe(1);
    expect(cachedPods(informer)).toEqual(serverPods(api));
  });

  it('resumes from a bookmark: a quiet selective watch keeps up with the cluster version and needs no relist after a cut', async () => {
    const api = await server({ historyCapacity: 5, bookmarkIntervalMs: 20 });
    const pods = api.resource('', 'v1', 'pods');
    const { informer, events } = await podInformer(api.url, { fieldSelector: 'spec.nodeName=node-a' });
    await informer.synced;
    await vi.waitFor(() => expect(api.watchCount).toBe(1));
    // Enough writes elsewhere that the version the list gave is out of the server's history.
    for (let index = 0; index < 10; index += 1) api.store.create(pods, 'default', pod(`b-${index}`, { nodeName: 'node-b' }));
    await vi.waitFor(() => expect(informer.resourceVersion).toBe(String(api.store.resourceVersion)));
    api.cutConnections();
    const mine = api.store.create(pods, 'default', pod('a-1', { nodeName: 'node-a' }));
    await vi.waitFor(() => expect(events.length).toBe(1));
    expect(events.map(summary)).toEqual([writeSummary('add', mine)]);
    expect(api.requests.lists).toBe(1);
  });

  it('relists on 410 Gone: the cache ends equal to the server, and what the gap deleted is reported as deletes', async () => {
    const api = await server({ historyCapacity: 3 });
    const pods = api.resource('', 'v1', 'pods');
    const [, lastSeenB] = ['a', 'b', 'c'].map((name) => api.store.create(pods, 'default', pod(name)));
    const { informer, events } = await podInformer(api.url);
    await informer.synced;
    events.length = 0;

    await api.stop();
    api.store.delete(pods, 'default', 'b');
    const changed = relabel(api, 'c', { app: 'changed' });
    const added = api.store.create(pods, 'default', pod('d'));
    // More writes than the history holds: the informer's version is now too old to watch from.
    const configMaps = api.resource('', 'v1', 'configmaps');
    for (let index = 0; index < 5; index += 1) api.store.create(configMaps, 'default', { metadata: { name: `filler-${index}` } });
    await api.start();

    await vi.waitFor(() => expect(informer.resourceVersion).toBe(String(api.store.resourceVersion)));
    // A delete found by a relist carries the last state the informer saw: the deletion itself was never seen.
    expect(events.map(summary).sort()).toEqual([writeSummary('delete', lastSeenB as KubeObject), writeSummary('update', changed), writeSummary('add', added)].sort());
    expect(cachedPods(informer)).toEqual(serverPods(api));
    expect(api.requests.lists).toBe(2);
  });

  it('recovers with backoff when the API server restarts from its data directory, and sees later writes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tycho-kube-informer-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const api = await server({ dataDir });
    const pods = api.resource('', 'v1', 'pods');
    api.store.create(pods, 'default', pod('before'));
    const { informer, events, errors } = await podInformer(api.url);
    await informer.synced;

    await api.stop();
    // The informer finds nobody at the port for a while before the new process is up.
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(2));
    await api.restartFromDisk();
    const after = api.store.create(api.resource('', 'v1', 'pods'), 'default', pod('after'));

    await vi.waitFor(() => expect(informer.get('default', 'after')?.metadata?.resourceVersion).toBe(after.metadata.resourceVersion));
    expect(events.map((event) => `${event.type} ${event.object.metadata?.name ?? ''}`)).toEqual(['add before', 'add after']);
    expect(cachedPods(informer)).toEqual(serverPods(api));
  });

  it('retries with exponential backoff while no server is up at start, then syncs when one comes up', async () => {
    const port = await freePort();
    const { informer, errors } = await podInformer(`http://127.0.0.1:${port}`, { backoff: { initialMs: 2, maxMs: 16, factor: 2, jitter: 0.5 }, random: () => 0.5 });
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(6));
    expect(informer.hasSynced).toBe(false);
    // 2, 4, 8, 16 ms, capped at 16, each less a quarter (jitter 0.5 × random 0.5).
    expect(errors.slice(0, 6).map((error) => error.retryInMs)).toEqual([2, 3, 6, 12, 12, 12]);
    expect(errors[0]?.message).toMatch(/ECONNREFUSED/);

    const api = await server({ port });
    api.store.create(api.resource('', 'v1', 'pods'), 'default', pod('late'));
    await informer.synced;
    expect(informer.get('default', 'late')).toBeDefined();
  });

  it('re-delivers every cached object as a resync event each resync interval', async () => {
    const api = await server();
    api.store.create(api.resource('', 'v1', 'pods'), 'default', pod('steady'));
    const { informer, events } = await podInformer(api.url, { resyncIntervalMs: 10 });
    await informer.synced;
    await vi.waitFor(() => expect(events.filter((event) => event.type === 'resync').length).toBeGreaterThanOrEqual(2));
    expect(new Set(events.filter((event) => event.type === 'resync').map((event) => event.object.metadata?.name))).toEqual(new Set(['steady']));
    expect(events.filter((event) => event.type !== 'resync').map(summary)).toHaveLength(1);
  });

  it('keeps delivering to other handlers when one throws', async () => {
    const api = await server();
    const { informer, events, errors } = await podInformer(api.url);
    informer.subscribe(() => {
      throw new Error('handler bug');
    });
    await informer.synced;
    api.store.create(api.resource('', 'v1', 'pods'), 'default', pod('x'));
    await vi.waitFor(() => expect(events.length).toBe(1));
    expect(errors.map((error) => error.message)).toEqual(['a add handler threw: handler bug']);
  });

  it('lists again after a pause, and never watches, when the list carries no resourceVersion', async () => {
    const paths: string[] = [];
    const bare = createServer((request, response) => {
      paths.push(request.url ?? '');
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: [pod('unversioned')] }));
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => bare.close(() => resolve())));
    const address = bare.address() as AddressInfo;
    const { informer, errors } = await podInformer(`http://127.0.0.1:${address.port}`, { random: () => 0 });
    await informer.synced;
    expect(informer.get('default', 'unversioned')?.kind).toBe('Pod');
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(2));
    expect(errors[0]?.message).toBe('list /api/v1/pods: the answer carries no metadata.resourceVersion to watch from');
    // Each failed round backs off further: the list is not hammered.
    expect(errors.slice(0, 2).map((error) => error.retryInMs)).toEqual([5, 10]);
    expect(paths.every((path) => !path.includes('watch=true'))).toBe(true);
  });

  it('rejects synced when closed before the first list, and stops retrying', async () => {
    const port = await freePort();
    const { informer, errors } = await podInformer(`http://127.0.0.1:${port}`);
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(1));
    await informer.close();
    await expect(informer.synced).rejects.toThrow(/closed before it synced/);
    const seen = errors.length;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(errors.length).toBe(seen);
  });
});
