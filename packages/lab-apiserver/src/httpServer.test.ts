import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createLabApiServer, type LabApiServer } from './httpServer.ts';
import { createObjectStore, type ObjectStore } from './objectStore.ts';
import { createResourceRegistry } from './resourceRegistry.ts';

interface Running {
  server: LabApiServer;
  store: ObjectStore;
  base: string;
  port: number;
}

const running: Running[] = [];
const dataDirs: string[] = [];

async function start(options: { dataDir?: string; historyCapacity?: number; bookmarkIntervalMs?: number } = {}): Promise<Running> {
  const store = createObjectStore({ registry: createResourceRegistry(), ...options });
  const server = createLabApiServer({ store, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000, log: () => {} });
  const address = await server.listen(0, '127.0.0.1');
  const instance = { server, store, base: `http://127.0.0.1:${address.port}`, port: address.port };
  running.push(instance);
  return instance;
}

async function stop(instance: Running): Promise<void> {
  await instance.server.close();
  instance.store.close();
  running.splice(running.indexOf(instance), 1);
}

afterEach(async () => {
  for (const instance of [...running]) await stop(instance);
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-apiserver-'));
  dataDirs.push(dir);
  return dir;
}

// Arbitrary JSON from the server, read by the assertions.
type Json = any;

async function call(base: string, method: string, path: string, body?: unknown, contentType = 'application/json', accept = 'application/json'): Promise<{ code: number; body: Json }> {
  const init: RequestInit = { method, headers: { 'Content-Type': contentType, Accept: accept } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return { code: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

function pod(name: string, labels: Record<string, string> = {}, nodeName?: string) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'main', image: 'echo' }] } };
}

/** Opens a watch and collects its events until `count` arrived or the stream ended. */
function watchEvents(base: string, path: string, count: number): Promise<Json[]> {
  return new Promise((resolve, reject) => {
    const events: Json[] = [];
    let buffer = '';
    const request = httpRequest(`${base}${path}`, (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let newline = buffer.indexOf('\n');
        while (newline !== -1) {
          events.push(JSON.parse(buffer.slice(0, newline)));
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf('\n');
        }
        if (events.length >= count) {
          request.destroy();
          resolve(events);
        }
      });
      response.on('end', () => resolve(events));
    });
    request.on('error', (error) => (events.length >= count ? resolve(events) : reject(error)));
    request.end();
  });
}

describe('lab API server: discovery', () => {
  it('serves /version, /api, /apis and group-version resource lists with status and scale subresources', async () => {
    const { base } = await start();
    expect((await call(base, 'GET', '/version')).body.gitVersion).toMatch(/^v1\.\d+\.\d+-tycho-lab$/);
    expect((await call(base, 'GET', '/api')).body.versions).toEqual(['v1']);
    const groups = (await call(base, 'GET', '/apis')).body.groups.map((group: Json) => group.name);
    expect(groups).toEqual(expect.arrayContaining(['apps', 'discovery.k8s.io', 'networking.k8s.io', 'apiextensions.k8s.io', 'coordination.k8s.io', 'rbac.authorization.k8s.io']));
    const apps = (await call(base, 'GET', '/apis/apps/v1')).body.resources;
    expect(apps.find((resource: Json) => resource.name === 'deployments')).toMatchObject({ kind: 'Deployment', namespaced: true, shortNames: ['deploy'] });
    expect(apps.find((resource: Json) => resource.name === 'deployments/scale')).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const core = (await call(base, 'GET', '/api/v1')).body.resources;
    expect(core.find((resource: Json) => resource.name === 'nodes')).toMatchObject({ namespaced: false });
    expect(core.find((resource: Json) => resource.name === 'pods/status')).toBeDefined();
  });

  it('answers aggregated-discovery requests in the legacy form with a plain JSON content type', async () => {
    const { base } = await start();
    const response = await fetch(`${base}/apis`, { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(((await response.json()) as Json).kind).toBe('APIGroupList');
  });
});

describe('lab API server: CRUD and Status errors', () => {
  it('creates objects with uid, creationTimestamp, resourceVersion and generation, in default namespaces', async () => {
    const { base } = await start();
    expect((await call(base, 'GET', '/api/v1/namespaces')).body.items.map((item: Json) => item.metadata.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect((await call(base, 'GET', '/api/v1/namespaces/default/services/kubernetes')).body.spec.clusterIP).toBe('10.96.0.1');
    const created = await call(base, 'POST', '/api/v1/namespaces/default/pods', pod('web'));
    expect(created.code).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'web', namespace: 'default', generation: 1 });
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(created.body.metadata.resourceVersion)).toBeGreaterThan(0);
    const generated = await call(base, 'POST', '/api/v1/namespaces/default/pods', { ...pod(''), metadata: { generateName: 'web-' } });
    expect(generated.body.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
  });

  it('answers a missing object with 404 NotFound worded as Kubernetes words it', async () => {
    const { base } = await start();
    const missing = await call(base, 'GET', '/api/v1/namespaces/default/pods/x');
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', message: 'pods "x" not found', details: { name: 'x', kind: 'pods' } });
    expect((await call(base, 'GET', '/apis/apps/v1/namespaces/default/deployments/x')).body.message).toBe('deployments.apps "x" not found');
    expect((await call(base, 'GET', '/apis/nothing.example/v1/things')).code).toBe(404);
  });

  it('answers a second create of the same name with 409 AlreadyExists', async () => {
    const { base } = await start();
    await call(base, 'POST', '/api/v1/namespaces/default/pods', pod('web'));
    const again = await call(base, 'POST', '/api/v1/namespaces/default/pods', pod('web'));
    expect(again.code).toBe(409);
    expect(again.body).toMatchObject({ reason: 'AlreadyExists', message: 'pods "web" already exists' });
  });

  it('answers an update with a stale resourceVersion with 409 Conflict and keeps the newer write', async () => {
    const { base } = await start();
    const created = (await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'c' }, data: { a: '1' } })).body;
    const first = await call(base, 'PUT', '/api/v1/namespaces/default/configmaps/c', { ...created, data: { a: '2' } });
    expect(first.code).toBe(200);
    const stale = await call(base, 'PUT', '/api/v1/namespaces/default/configmaps/c', { ...created, data: { a: '3' } });
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({ reason: 'Conflict', message: 'Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again' });
    expect((await call(base, 'GET', '/api/v1/namespaces/default/configmaps/c')).body.data).toEqual({ a: '2' });
  });

  it('answers an invalid object with 422 Invalid naming each field in details.causes', async () => {
    const { base } = await start();
    const badName = await call(base, 'POST', '/api/v1/namespaces/default/pods', pod('Bad_Name'));
    expect(badName.code).toBe(422);
    expect(badName.body.reason).toBe('Invalid');
    expect(badName.body.details.causes).toContainEqual(expect.objectContaining({ field: 'metadata.name', reason: 'FieldValueInvalid' }));
    const noContainers = await call(base, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'p' }, spec: {} });
    expect(noContainers.body.details.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' }]);
    expect(noContainers.body.message).toBe('Pod "p" is invalid: spec.containers: Required value');
    const deployment = await call(base, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    });
    expect(deployment.body.details.causes[0]).toMatchObject({ field: 'spec.template.metadata.labels' });
  });

  it('answers malformed bodies, a wrong kind for the URL and a missing namespace with Status bodies', async () => {
    const { base } = await start();
    const malformed = await call(base, 'POST', '/api/v1/namespaces/default/pods', '{"metadata": ');
    expect(malformed).toMatchObject({ code: 400, body: { kind: 'Status', reason: 'BadRequest' } });
    const wrongKind = await call(base, 'POST', '/api/v1/namespaces/default/pods', { ...pod('p'), kind: 'Service' });
    expect(wrongKind.code).toBe(400);
    expect(wrongKind.body.message).toContain('the kind in the data (Service) does not match the expected kind (Pod)');
    const noNamespace = await call(base, 'POST', '/api/v1/namespaces/nowhere/pods', pod('p'));
    expect(noNamespace).toMatchObject({ code: 404, body: { message: 'namespaces "nowhere" not found' } });
    const badSelector = await call(base, 'GET', '/api/v1/pods?labelSelector=in%20(');
    expect(badSelector).toMatchObject({ code: 400, body: { reason: 'BadRequest' } });
    const kubeletOnly = await call(base, 'GET', '/api/v1/namespaces/default/pods/p/log');
    expect(kubeletOnly.code).toBe(503);
    expect(kubeletOnly.body.message).toContain('lab kubelet');
  });

  it('refuses a body over the size limit with 413 and stays up', async () => {
    const store = createObjectStore({ registry: createResourceRegistry() });
    const server = createLabApiServer({ store, maxBodyBytes: 1024, log: () => {} });
    const address = await server.listen(0, '127.0.0.1');
    running.push({ server, store, base: `http://127.0.0.1:${address.port}`, port: address.port });
    const base = `http://127.0.0.1:${address.port}`;
    const big = await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'big' }, data: { a: 'x'.repeat(4096) } });
    expect(big).toMatchObject({ code: 413, body: { reason: 'RequestEntityTooLarge' } });
    expect((await call(base, 'GET', '/version')).code).toBe(200);
  });

  it('deletes at once without finalizers, and marks then deletes when the last finalizer goes', async () => {
    const { base } = await start();
    await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'plain' } });
    expect((await call(base, 'DELETE', '/api/v1/namespaces/default/configmaps/plain')).code).toBe(200);
    expect((await call(base, 'GET', '/api/v1/namespaces/default/configmaps/plain')).code).toBe(404);
    await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    const marked = await call(base, 'DELETE', '/api/v1/namespaces/default/configmaps/held');
    expect(marked.body.metadata.deletionTimestamp).toBeDefined();
    expect((await call(base, 'GET', '/api/v1/namespaces/default/configmaps/held')).code).toBe(200);
    await call(base, 'PATCH', '/api/v1/namespaces/default/configmaps/held', { metadata: { finalizers: null } }, 'application/merge-patch+json');
    expect((await call(base, 'GET', '/api/v1/namespaces/default/configmaps/held')).code).toBe(404);
  });

  it('bumps generation on a spec change only, and keeps status out of the main resource', async () => {
    const { base } = await start();
    const deployment = {
      metadata: { name: 'd' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    };
    await call(base, 'POST', '/apis/apps/v1/namespaces/default/deployments', deployment);
    const labelled = await call(base, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/d', { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json');
    expect(labelled.body.metadata.generation).toBe(1);
    const scaled = await call(base, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/d', { spec: { replicas: 2 }, status: { readyReplicas: 9 } }, 'application/merge-patch+json');
    expect(scaled.body.metadata.generation).toBe(2);
    expect(scaled.body.status?.readyReplicas).toBeUndefined();
    const status = await call(base, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/d/status', { status: { readyReplicas: 2 } }, 'application/merge-patch+json');
    expect(status.body.status.readyReplicas).toBe(2);
    expect(status.body.metadata.generation).toBe(2);
  });

  it('serves the scale subresource as autoscaling/v1 Scale and writes spec.replicas through it', async () => {
    const { base } = await start();
    await call(base, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'd' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    });
    const scale = await call(base, 'GET', '/apis/apps/v1/namespaces/default/deployments/d/scale');
    expect(scale.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { selector: 'app=a' } });
    await call(base, 'PUT', '/apis/apps/v1/namespaces/default/deployments/d/scale', { ...scale.body, spec: { replicas: 3 } });
    expect((await call(base, 'GET', '/apis/apps/v1/namespaces/default/deployments/d')).body.spec.replicas).toBe(3);
    await call(base, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/d/scale', { spec: { replicas: 5 } }, 'application/merge-patch+json');
    expect((await call(base, 'GET', '/apis/apps/v1/namespaces/default/deployments/d')).body.spec.replicas).toBe(5);
    const negative = await call(base, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/d/scale', { spec: { replicas: -1 } }, 'application/merge-patch+json');
    expect(negative).toMatchObject({ code: 422, body: { details: { causes: [{ field: 'spec.replicas' }] } } });
  });
});

describe('lab API server: patches and server-side apply', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } } },
  };
  const path = '/apis/apps/v1/namespaces/default/deployments/d';

  it('applies merge, JSON and strategic merge patches by their content type', async () => {
    const { base } = await start();
    await call(base, 'POST', '/apis/apps/v1/namespaces/default/deployments', deployment);
    expect((await call(base, 'PATCH', path, { spec: { replicas: 2 } }, 'application/merge-patch+json')).body.spec.replicas).toBe(2);
    expect((await call(base, 'PATCH', path, [{ op: 'replace', path: '/spec/replicas', value: 3 }], 'application/json-patch+json')).body.spec.replicas).toBe(3);
    const strategic = await call(base, 'PATCH', path, { spec: { template: { spec: { containers: [{ name: 'side', image: 'side:1' }] } } } }, 'application/strategic-merge-patch+json');
    expect(strategic.body.spec.template.spec.containers.map((container: Json) => container.name)).toEqual(['web', 'side']);
    const failedTest = await call(base, 'PATCH', path, [{ op: 'test', path: '/spec/replicas', value: 9 }], 'application/json-patch+json');
    expect(failedTest).toMatchObject({ code: 422, body: { kind: 'Status' } });
    expect((await call(base, 'PATCH', path, { spec: {} }, 'text/plain')).code).toBe(415);
    expect((await call(base, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/none', { spec: {} }, 'application/merge-patch+json')).code).toBe(404);
  });

  it('creates with a YAML apply patch, then merges a second apply and records the field manager', async () => {
    const { base } = await start();
    const yamlBody = ['apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: d', 'spec:', '  replicas: 2', '  selector:', '    matchLabels: {app: a}', '  template:', '    metadata:', '      labels: {app: a}', '    spec:', '      containers:', '      - name: web', '        image: web:1'].join('\n');
    const created = await call(base, 'PATCH', `${path}?fieldManager=alice`, yamlBody, 'application/apply-patch+yaml');
    expect(created.code).toBe(201);
    expect(created.body.metadata.managedFields[0]).toMatchObject({ manager: 'alice', operation: 'Apply' });
    const again = await call(base, 'PATCH', `${path}?fieldManager=alice`, yamlBody.replace('replicas: 2', 'replicas: 4'), 'application/apply-patch+yaml');
    expect(again).toMatchObject({ code: 200, body: { spec: { replicas: 4 } } });
    const conflict = await call(base, 'PATCH', `${path}?fieldManager=bob`, yamlBody.replace('replicas: 2', 'replicas: 5'), 'application/apply-patch+yaml');
    expect(conflict).toMatchObject({ code: 409, body: { reason: 'Conflict' } });
    expect((await call(base, 'PATCH', path, yamlBody, 'application/apply-patch+yaml')).body.message).toContain('requires fieldManager');
  });
});

describe('lab API server: selectors and paging', () => {
  it('filters lists by label selector (=, !=, in, notin, exists, !exists) and field selector', async () => {
    const { base } = await start();
    await call(base, 'POST', '/api/v1/namespaces/default/pods', pod('a', { app: 'web', tier: 'front' }, 'node-1'));
    await call(base, 'POST', '/api/v1/namespaces/default/pods', pod('b', { app: 'web' }, 'node-2'));
    await call(base, 'POST', '/api/v1/namespaces/default/pods', pod('c', { app: 'db' }));
    const names = async (query: string) => (await call(base, 'GET', `/api/v1/pods?${query}`)).body.items.map((item: Json) => item.metadata.name);
    expect(await names('labelSelector=app%3Dweb')).toEqual(['a', 'b']);
    expect(await names('labelSelector=app%3D%3Dweb')).toEqual(['a', 'b']);
    expect(await names('labelSelector=app!%3Dweb')).toEqual(['c']);
    expect(await names(`labelSelector=${encodeURIComponent('app in (db, web),tier notin (back)')}`)).toEqual(['a', 'b', 'c']);
    expect(await names('labelSelector=tier')).toEqual(['a']);
    expect(await names('labelSelector=!tier')).toEqual(['b', 'c']);
    expect(await names('fieldSelector=spec.nodeName%3Dnode-2')).toEqual(['b']);
    expect(await names('fieldSelector=spec.nodeName%3D')).toEqual(['c']);
    expect(await names('fieldSelector=metadata.name!%3Da,metadata.namespace%3Ddefault')).toEqual(['b', 'c']);
    expect(await names('fieldSelector=status.phase%3DPending&labelSelector=app%3Ddb')).toEqual(['c']);
  });

  it('pages a list with limit and continue, at the first page resourceVersion, and 410s a token older than the history', async () => {
    const { base } = await start({ historyCapacity: 5 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name } });
    const first = (await call(base, 'GET', '/api/v1/namespaces/default/configmaps?limit=2')).body;
    expect(first.items.map((item: Json) => item.metadata.name)).toEqual(['a', 'b']);
    expect(first.metadata.remainingItemCount).toBe(3);
    const second = (await call(base, 'GET', `/api/v1/namespaces/default/configmaps?limit=2&continue=${first.metadata.continue}`)).body;
    expect(second.items.map((item: Json) => item.metadata.name)).toEqual(['c', 'd']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const third = (await call(base, 'GET', `/api/v1/namespaces/default/configmaps?limit=2&continue=${second.metadata.continue}`)).body;
    expect(third.items.map((item: Json) => item.metadata.name)).toEqual(['e']);
    expect(third.metadata.continue).toBeUndefined();
    for (const name of ['f', 'g', 'h', 'i', 'j', 'k']) await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name } });
    const tooOld = await call(base, 'GET', `/api/v1/namespaces/default/configmaps?limit=2&continue=${first.metadata.continue}`);
    expect(tooOld).toMatchObject({ code: 410, body: { reason: 'Expired' } });
    expect((await call(base, 'GET', '/api/v1/namespaces/default/configmaps?limit=2&continue=garbage')).code).toBe(400);
  });
});

describe('lab API server: watch', () => {
  it('resumes a watch from a resourceVersion with every later event once, in order', async () => {
    const { base } = await start();
    const list = (await call(base, 'GET', '/api/v1/namespaces/default/configmaps')).body;
    await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'a' } });
    const b = (await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'b' } })).body;
    await call(base, 'PATCH', '/api/v1/namespaces/default/configmaps/a', { data: { k: 'v' } }, 'application/merge-patch+json');
    const fromList = await watchEvents(base, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${list.metadata.resourceVersion}`, 3);
    expect(fromList.map((event) => `${event.type} ${event.object.metadata.name}`)).toEqual(['ADDED a', 'ADDED b', 'MODIFIED a']);
    const fromB = watchEvents(base, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${b.metadata.resourceVersion}`, 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await call(base, 'DELETE', '/api/v1/namespaces/default/configmaps/b');
    await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'c' } });
    const events = await fromB;
    expect(events.map((event) => `${event.type} ${event.object.metadata.name}`)).toEqual(['MODIFIED a', 'DELETED b', 'ADDED c']);
    const versions = events.map((event) => Number(event.object.metadata.resourceVersion));
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);
    expect(new Set(versions).size).toBe(3);
  });

  it('sends the current objects as ADDED when no resourceVersion is given, and honours selectors as enter/leave', async () => {
    const { base } = await start();
    await call(base, 'POST', '/api/v1/namespaces/default/pods', pod('a', { app: 'web' }));
    await call(base, 'POST', '/api/v1/namespaces/default/pods', pod('b', { app: 'db' }));
    const watching = watchEvents(base, '/api/v1/namespaces/default/pods?watch=1&labelSelector=app%3Dweb', 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await call(base, 'PATCH', '/api/v1/namespaces/default/pods/b', { metadata: { labels: { app: 'web' } } }, 'application/merge-patch+json');
    await call(base, 'PATCH', '/api/v1/namespaces/default/pods/a', { metadata: { labels: { app: 'gone' } } }, 'application/merge-patch+json');
    expect((await watching).map((event) => `${event.type} ${event.object.metadata.name}`)).toEqual(['ADDED a', 'ADDED b', 'DELETED a']);
  });

  it('answers a watch from a resourceVersion older than the history with an ERROR event carrying 410 Expired, and a relist recovers', async () => {
    const { base } = await start({ historyCapacity: 3 });
    const start_ = (await call(base, 'GET', '/api/v1/namespaces/default/configmaps')).body.metadata.resourceVersion;
    for (const name of ['a', 'b', 'c', 'd', 'e']) await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name } });
    const [error] = await watchEvents(base, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${start_}`, 1);
    expect(error).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    const relist = (await call(base, 'GET', '/api/v1/namespaces/default/configmaps')).body;
    expect(relist.items).toHaveLength(5);
    const watching = watchEvents(base, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${relist.metadata.resourceVersion}`, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await call(base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'f' } });
    expect((await watching).map((event) => `${event.type} ${event.object.metadata.name}`)).toEqual(['ADDED f']);
  });

  it('sends BOOKMARK events when allowed, and ends the stream after timeoutSeconds', async () => {
    const { base } = await start({ bookmarkIntervalMs: 20 });
    const [bookmark] = await watchEvents(base, '/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=1', 1);
    expect(bookmark).toMatchObject({ type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1' } });
    expect(Number(bookmark.object.metadata.resourceVersion)).toBeGreaterThan(0);
    const ended = await watchEvents(base, '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1', 100);
    expect(ended).toEqual([]);
  });
});

describe('lab API server: Table output', () => {
  const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

  it('prints pods as NAME READY STATUS RESTARTS AGE with IP and NODE at priority 1', async () => {
    const { base } = await start();
    await call(base, 'POST', '/api/v1/namespaces/default/pods', pod('web', {}, 'node-1'));
    const table = (await call(base, 'GET', '/api/v1/namespaces/default/pods', undefined, 'application/json', tableAccept)).body;
    expect(table).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
    expect(table.columnDefinitions.filter((column: Json) => column.priority === 0).map((column: Json) => column.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(table.columnDefinitions.filter((column: Json) => column.priority === 1).map((column: Json) => column.name).slice(0, 2)).toEqual(['IP', 'Node']);
    expect(table.rows[0].cells.slice(0, 4)).toEqual(['web', '0/1', 'Pending', '0']);
    expect(table.rows[0].cells[6]).toBe('node-1');
    expect(table.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'web' } });
  });

  it('prints deployments as NAME READY UP-TO-DATE AVAILABLE AGE, and anything without a printer as NAME AGE', async () => {
    const { base } = await start();
    await call(base, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'd' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    });
    const deployments = (await call(base, 'GET', '/apis/apps/v1/namespaces/default/deployments', undefined, 'application/json', tableAccept)).body;
    expect(deployments.columnDefinitions.filter((column: Json) => column.priority === 0).map((column: Json) => column.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age']);
    expect(deployments.rows[0].cells.slice(0, 4)).toEqual(['d', '0/2', 0, 0]);
    await call(base, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { metadata: { name: 'r' }, rules: [] });
    const roles = (await call(base, 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/r', undefined, 'application/json', tableAccept)).body;
    expect(roles.columnDefinitions.map((column: Json) => column.name)).toEqual(['Name', 'Age']);
  });
});

describe('lab API server: CustomResourceDefinitions', () => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { kind: 'Widget', plural: 'widgets', singular: 'widget', shortNames: ['wd'] },
      versions: [{ name: 'v1', served: true, storage: true, additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }] }],
    },
  };

  it('serves a CRD kind once created, with discovery and printer columns, and removes it and its objects on delete', async () => {
    const { base } = await start();
    expect((await call(base, 'GET', '/apis/example.com/v1/namespaces/default/widgets')).code).toBe(404);
    const created = (await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).body;
    expect(created.status.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
    expect((await call(base, 'GET', '/apis/example.com/v1')).body.resources[0]).toMatchObject({ name: 'widgets', kind: 'Widget', shortNames: ['wd'] });
    const widget = await call(base, 'POST', '/apis/example.com/v1/namespaces/default/widgets', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 3 } });
    expect(widget.code).toBe(201);
    const table = (await call(base, 'GET', '/apis/example.com/v1/namespaces/default/widgets', undefined, 'application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io')).body;
    expect(table.columnDefinitions.map((column: Json) => column.name)).toEqual(['Name', 'Size']);
    expect(table.rows[0].cells).toEqual(['w', 3]);
    const patched = await call(base, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w', { spec: { size: 4 } }, 'application/merge-patch+json');
    expect(patched.body.spec.size).toBe(4);
    const strategic = await call(base, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/w', { spec: { size: 5 } }, 'application/strategic-merge-patch+json');
    expect(strategic.code).toBe(415);
    expect((await call(base, 'DELETE', '/apis/example.com/v1/namespaces/default/widgets/w')).code).toBe(200);
    await call(base, 'POST', '/apis/example.com/v1/namespaces/default/widgets', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w2' } });
    await call(base, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
    expect((await call(base, 'GET', '/apis/example.com/v1/namespaces/default/widgets')).code).toBe(404);
    expect((await call(base, 'GET', '/apis')).body.groups.map((group: Json) => group.name)).not.toContain('example.com');
    await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    expect((await call(base, 'GET', '/apis/example.com/v1/namespaces/default/widgets')).body.items).toEqual([]);
  });

  it('refuses a CRD whose name is not plural.group with 422 naming metadata.name', async () => {
    const { base } = await start();
    const wrong = await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { ...crd, metadata: { name: 'gadgets.example.com' } });
    expect(wrong.code).toBe(422);
    expect(wrong.body.details.causes).toContainEqual(expect.objectContaining({ field: 'metadata.name' }));
  });
});

describe('lab API server: persistence', () => {
  it('keeps objects, CRDs and the resourceVersion across a restart, and a watch resumes across it', async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    await call(first.base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'kept' }, data: { a: '1' } });
    const updated = (await call(first.base, 'PATCH', '/api/v1/namespaces/default/configmaps/kept', { data: { a: '2' } }, 'application/merge-patch+json')).body;
    await call(first.base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', scope: 'Cluster', names: { kind: 'Widget', plural: 'widgets' }, versions: [{ name: 'v1', served: true, storage: true }] },
    });
    const before = Number(updated.metadata.resourceVersion);
    await stop(first);
    const second = await start({ dataDir });
    expect((await call(second.base, 'GET', '/api/v1/namespaces/default/configmaps/kept')).body.data).toEqual({ a: '2' });
    expect((await call(second.base, 'GET', '/apis/example.com/v1/widgets')).code).toBe(200);
    const [resumed] = await watchEvents(second.base, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${before - 1}`, 1);
    expect(resumed).toMatchObject({ type: 'MODIFIED', object: { metadata: { name: 'kept' } } });
    const next = (await call(second.base, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'new' } })).body;
    expect(Number(next.metadata.resourceVersion)).toBeGreaterThan(before + 1);
  });
});

describe('lab API server: TLS', () => {
  it('serves HTTPS with the given certificate and key', async () => {
    const dir = tempDir();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const cert = readFileSync(join(dir, 'cert.pem'));
    const store = createObjectStore({ registry: createResourceRegistry() });
    const server = createLabApiServer({ store, tls: { cert, key: readFileSync(join(dir, 'key.pem')) }, log: () => {} });
    const address = await server.listen(0, '127.0.0.1');
    running.push({ server, store, base: `https://127.0.0.1:${address.port}`, port: address.port });
    const body = await new Promise<string>((resolve, reject) => {
      const request = httpsRequest(`https://127.0.0.1:${address.port}/api/v1/namespaces/default`, { ca: cert }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve(text));
      });
      request.on('error', reject);
      request.end();
    });
    expect(JSON.parse(body)).toMatchObject({ kind: 'Namespace', metadata: { name: 'default' } });
  });
});
