// The HTTP edge of the lab's kube-apiserver double: routes Kubernetes REST paths onto the object
// store, negotiates JSON or server-side Table output, decodes patches and applies, streams
// watches, and answers every failure with a metav1.Status body. It holds no state of its own
// beyond the open watches.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import yaml from 'js-yaml';

import { recordUpdateManager, serverSideApply } from './apply.ts';
import { apiVersionOf, cloneJson, fieldAt, isJsonObject, type JsonObject, type KubeObject } from './kubeObject.ts';
import type { ObjectStore } from './objectStore.ts';
import { createOpenApi, openApiV2Json, openApiV2Protobuf } from './openApi.ts';
import { jsonMergePatch, jsonPatch, strategicMergePatch } from './patch.ts';
import { decodeProtobufObject, protobufContentType } from './protobuf.ts';
import type { ResourceDefinition } from './resourceRegistry.ts';
import { labelSelectorText } from './selectors.ts';
import {
  badRequest,
  internalError,
  invalid,
  methodNotAllowed,
  notFound,
  requestEntityTooLarge,
  serviceUnavailable,
  StatusError,
  tooManyRequests,
  unsupportedMediaType,
  type Status,
} from './status.ts';
import { toTable, type IncludeObject } from './table.ts';
import type { WatchEventType } from './watchCache.ts';

export interface LabApiServerOptions {
  store: ObjectStore;
  /** kube-apiserver refuses bodies over 3 MiB; so does the double. */
  maxBodyBytes?: number;
  maxWatchesPerClient?: number;
  /** How often a watch that allows bookmarks gets one. */
  bookmarkIntervalMs?: number;
  /** A watch without timeoutSeconds ends after this long, as kube-apiserver's --min-request-timeout. */
  defaultWatchTimeoutSeconds?: number;
  /** A watch whose client reads slower than this many buffered bytes is cut. */
  maxWatchBufferBytes?: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  log?: (line: string) => void;
}

/** What `kubectl version` shows for the server: the double names itself in gitVersion. */
export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-tycho-lab',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'none (tycho lab API server, a test double of kube-apiserver)',
  compiler: 'tsx',
  platform: 'linux/amd64',
};

const patchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
const bodyTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
/** Pod subresources the lab kubelet will serve in a later step. */
const kubeletSubresources = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

interface ResourceRequest {
  resource: ResourceDefinition;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

class Answer {
  constructor(
    readonly code: number,
    readonly body: unknown,
  ) {}
}

function sendJson(response: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  response.end(text);
}

function sendStatus(response: ServerResponse, status: Status): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendJson(response, status.code, status);
}

function notFoundPath(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(requestEntityTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(requestEntityTooLarge(limit));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Decodes a JSON (or, for apply, YAML) body into an object, or a 400 naming what was wrong. */
function decodeBody(body: Buffer, type: string): unknown {
  if (type === protobufContentType) return decodeProtobufObject(body);
  if (type !== '' && !bodyTypes.includes(type) && !patchTypes.includes(type)) throw unsupportedMediaType(type, bodyTypes);
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty: expected a JSON object');
  if (type === 'application/apply-patch+yaml' || type === 'application/yaml') {
    try {
      return yaml.load(text, { schema: yaml.JSON_SCHEMA });
    } catch (error) {
      throw badRequest(`error decoding YAML: ${(error as Error).message.split('\n')[0] ?? ''}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

function asObject(value: unknown, what: string): KubeObject {
  if (!isJsonObject(value)) throw badRequest(`${what} must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  if (value.metadata !== undefined && !isJsonObject(value.metadata)) {
    throw invalid('', String(value.kind ?? ''), '', [{ reason: 'FieldValueInvalid', message: 'Invalid value: must be an object', field: 'metadata' }]);
  }
  return { ...value, metadata: (value.metadata as KubeObject['metadata'] | undefined) ?? {} } as KubeObject;
}

function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '') && /g=meta\.k8s\.io/.test(accept ?? '');
}

function includeObjectOf(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  if (value === null || value === '' || value === 'Metadata') return 'Metadata';
  if (value === 'None' || value === 'Object') return value;
  throw badRequest(`includeObject "${value}" is not supported: expected None, Metadata or Object`);
}

function integerParameter(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw badRequest(`${name} "${value}" is not valid: expected a non-negative integer`);
  return Number(value);
}

function flagParameter(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value === 'true' || value === '1';
}

function dryRunOf(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const value of values) if (value !== 'All') throw badRequest(`dryRun "${value}" is not supported: the only valid value is All`);
  return values.length > 0;
}

function checkFieldValidation(query: URLSearchParams): void {
  const value = query.get('fieldValidation');
  // The double keeps no schemas, so Strict and Warn check what Ignore checks: nothing about unknown fields.
  if (value !== null && value !== '' && !['Strict', 'Warn', 'Ignore'].includes(value)) {
    throw badRequest(`fieldValidation "${value}" is not supported: expected Strict, Warn or Ignore`);
  }
}

function fieldManagerOf(query: URLSearchParams, request: IncomingMessage): string | undefined {
  const manager = query.get('fieldManager');
  if (manager) {
    if (manager.length > 128) throw badRequest('fieldManager is longer than 128 characters');
    return manager;
  }
  const agent = request.headers['user-agent'];
  return agent ? agent.split('/')[0]?.slice(0, 128) : undefined;
}

/** Writes a value at a CRD scale path such as `.spec.replicas`. */
function setAtPath(object: JsonObject, path: string, value: number): void {
  const keys = path.replace(/^\./, '').split('.');
  let current = object;
  for (const key of keys.slice(0, -1)) {
    const next = current[key];
    current[key] = isJsonObject(next) ? next : {};
    current = current[key] as JsonObject;
  }
  current[keys[keys.length - 1] ?? 'replicas'] = value;
}

export function createLabApiServer(options: LabApiServerOptions) {
  const { store } = options;
  const registry = store.registry;
  const maxBodyBytes = options.maxBodyBytes ?? 3 * 1024 * 1024;
  const maxWatchesPerClient = options.maxWatchesPerClient ?? 1000;
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 10_000;
  const defaultWatchTimeoutSeconds = options.defaultWatchTimeoutSeconds ?? 1800;
  const maxWatchBufferBytes = options.maxWatchBufferBytes ?? 64 * 1024 * 1024;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const watchesByClient = new Map<string, number>();
  const openWatches = new Set<ServerResponse>();
  const openApi = createOpenApi(registry);

  function output(resource: ResourceDefinition, object: KubeObject): KubeObject {
    const { apiVersion: _apiVersion, kind: _kind, ...rest } = object;
    return { apiVersion: apiVersionOf(resource.group, resource.version), kind: resource.kind, ...rest };
  }

  function serveObject(request: IncomingMessage, query: URLSearchParams, resource: ResourceDefinition, object: KubeObject): unknown {
    if (wantsTable(request.headers.accept)) {
      return toTable(resource, [output(resource, object)], { include: includeObjectOf(query), now: new Date(), listMeta: { resourceVersion: object.metadata.resourceVersion ?? '' } });
    }
    return output(resource, object);
  }

  function discoveryResources(group: string, version: string): JsonObject[] {
    return registry.resourcesIn({ group, version }).flatMap((resource) => {
      const entry: JsonObject = { name: resource.plural, singularName: resource.singular, namespaced: resource.namespaced, kind: resource.kind, verbs: resource.verbs };
      if (resource.shortNames.length > 0) entry.shortNames = resource.shortNames;
      if (resource.categories.length > 0) entry.categories = resource.categories;
      const entries: JsonObject[] = [entry];
      if (resource.subresources.status) entries.push({ name: `${resource.plural}/status`, singularName: '', namespaced: resource.namespaced, kind: resource.kind, verbs: ['get', 'patch', 'update'] });
      if (resource.subresources.scale) entries.push({ name: `${resource.plural}/scale`, singularName: '', namespaced: resource.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
      return entries;
    });
  }

  function groupDocument(group: { name: string; versions: string[] }): JsonObject {
    const versions = group.versions.map((version) => ({ groupVersion: `${group.name}/${version}`, version }));
    return { name: group.name, versions, preferredVersion: versions[0] ?? null };
  }

  /** Discovery, in its legacy (unaggregated) form; served as plain application/json so kubectl falls back to it. */
  function discovery(segments: string[]): unknown | undefined {
    if (segments.length === 1 && segments[0] === 'api') {
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] };
    }
    if (segments.length === 2 && segments[0] === 'api' && segments[1] === 'v1') {
      return { kind: 'APIResourceList', groupVersion: 'v1', resources: discoveryResources('', 'v1') };
    }
    if (segments[0] !== 'apis') return undefined;
    const groups = registry.groups().filter((group) => group.name !== '');
    if (segments.length === 1) return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupDocument) };
    const group = groups.find((candidate) => candidate.name === segments[1]);
    if (!group) return undefined;
    if (segments.length === 2) return { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(group) };
    if (segments.length === 3 && group.versions.includes(segments[2] ?? '')) {
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${group.name}/${segments[2] ?? ''}`, resources: discoveryResources(group.name, segments[2] ?? '') };
    }
    return undefined;
  }

  function resolveResource(segments: string[]): ResourceRequest | undefined {
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api' && segments.length >= 3) {
      group = '';
      version = segments[1] ?? '';
      rest = segments.slice(2);
    } else if (segments[0] === 'apis' && segments.length >= 4) {
      group = segments[1] ?? '';
      version = segments[2] ?? '';
      rest = segments.slice(3);
    } else return undefined;
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    if (rest.length === 0 || rest.length > 3) return undefined;
    const resource = registry.find(group, version, rest[0] ?? '');
    if (!resource) return undefined;
    if (namespace !== undefined && !resource.namespaced) return undefined;
    if (namespace === undefined && resource.namespaced && rest.length > 1) return undefined;
    return { resource, namespace, name: rest[1], subresource: rest[2] };
  }

  function scaleOf(resource: ResourceDefinition, object: KubeObject): JsonObject {
    const scale = resource.subresources.scale;
    const path = (jsonPath: string | undefined) => (jsonPath ?? '').replace(/^\./, '').split('.');
    const replicas = fieldAt(object, path(scale?.specReplicasPath));
    const current = fieldAt(object, path(scale?.statusReplicasPath));
    const selector = scale?.labelSelectorPath ? fieldAt(object, path(scale.labelSelectorPath)) : undefined;
    const metadata: JsonObject = { name: object.metadata.name ?? '', uid: object.metadata.uid ?? '', resourceVersion: object.metadata.resourceVersion ?? '', creationTimestamp: object.metadata.creationTimestamp ?? null };
    if (object.metadata.namespace) metadata.namespace = object.metadata.namespace;
    const status: JsonObject = { replicas: typeof current === 'number' ? current : 0 };
    const selectorText = typeof selector === 'string' ? selector : labelSelectorText(selector);
    if (selectorText) status.selector = selectorText;
    return { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata, spec: { replicas: typeof replicas === 'number' ? replicas : 0 }, status };
  }

  function updateFromScale(target: ResourceRequest, current: KubeObject, scale: unknown, dryRun: boolean): JsonObject {
    const resource = target.resource;
    const specReplicas = isJsonObject(scale) && isJsonObject(scale.spec) ? scale.spec.replicas : undefined;
    if (!Number.isInteger(specReplicas) || (specReplicas as number) < 0) {
      throw invalid('autoscaling', 'Scale', current.metadata.name ?? '', [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(specReplicas ?? null)}: must be a non-negative integer`, field: 'spec.replicas' }]);
    }
    const scaleMetadata = isJsonObject(scale) && isJsonObject(scale.metadata) ? scale.metadata : {};
    const next = cloneJson(current);
    if (typeof scaleMetadata.resourceVersion === 'string' && scaleMetadata.resourceVersion !== '') next.metadata.resourceVersion = scaleMetadata.resourceVersion;
    setAtPath(next as unknown as JsonObject, resource.subresources.scale?.specReplicasPath ?? '.spec.replicas', specReplicas as number);
    const stored = store.update(resource, target.namespace ?? '', target.name ?? '', next, { dryRun });
    return scaleOf(resource, stored);
  }

  function patched(target: ResourceRequest, current: KubeObject | undefined, patch: unknown, type: string, query: URLSearchParams, request: IncomingMessage): { object: KubeObject; create: boolean } {
    const resource = target.resource;
    const name = target.name ?? '';
    const customResource = resource.definedBy !== undefined;
    if (type === 'application/apply-patch+yaml') {
      const fieldManager = query.get('fieldManager');
      if (!fieldManager) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager parameter');
      const applied = asObject(patch, 'an applied configuration');
      const expected = apiVersionOf(resource.group, resource.version);
      if (applied.apiVersion !== expected || applied.kind !== resource.kind) {
        throw badRequest(`the applied configuration's apiVersion/kind (${String(applied.apiVersion ?? '')}/${String(applied.kind ?? '')}) does not match ${expected}/${resource.kind} of the URL`);
      }
      if (applied.metadata.name !== undefined && applied.metadata.name !== name) {
        throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
      }
      applied.metadata.name = name;
      if (target.subresource !== 'status' && resource.subresources.status) delete applied.status;
      const object = serverSideApply({ live: current, applied, fieldManager, force: flagParameter(query, 'force'), customResource, apiVersion: expected, now: new Date() });
      return { object, create: current === undefined };
    }
    if (!current) throw notFound(resource, name);
    let result: unknown;
    if (type === 'application/merge-patch+json') result = jsonMergePatch(current, patch);
    else if (type === 'application/json-patch+json') result = jsonPatch(current, patch);
    else if (type === 'application/strategic-merge-patch+json') {
      if (customResource) throw unsupportedMediaType(type, patchTypes.filter((candidate) => candidate !== type));
      result = strategicMergePatch(current, patch);
    } else throw unsupportedMediaType(type, patchTypes);
    const object = asObject(result, 'the patched object');
    recordUpdateManager(object, fieldManagerOf(query, request), apiVersionOf(resource.group, resource.version), new Date(), target.subresource);
    return { object, create: false };
  }

  async function handleResource(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourceRequest): Promise<Answer | undefined> {
    const { resource, name, subresource } = target;
    const namespace = target.namespace ?? '';
    const query = url.searchParams;
    const method = request.method ?? 'GET';
    if (subresource !== undefined) {
      if (resource.plural === 'pods' && resource.group === '' && kubeletSubresources.has(subresource)) {
        throw serviceUnavailable(`pods/${subresource} is not served yet: it needs the lab kubelet, which does not run pods in this lab yet`);
      }
      const known = (subresource === 'status' && resource.subresources.status) || (subresource === 'scale' && resource.subresources.scale);
      if (!known) throw notFoundPath();
    }
    const dryRun = dryRunOf(query);
    if (method === 'GET') {
      if (name === undefined) {
        if (flagParameter(query, 'watch')) {
          startWatch(request, response, query, target);
          return undefined;
        }
        const listQuery = {
          ...(query.get('labelSelector') !== null ? { labelSelector: query.get('labelSelector') ?? '' } : {}),
          ...(query.get('fieldSelector') !== null ? { fieldSelector: query.get('fieldSelector') ?? '' } : {}),
          ...(query.get('continue') ? { continueToken: query.get('continue') ?? '' } : {}),
          ...(query.get('resourceVersion') !== null ? { resourceVersion: query.get('resourceVersion') ?? '' } : {}),
          ...(query.get('resourceVersionMatch') ? { resourceVersionMatch: query.get('resourceVersionMatch') ?? '' } : {}),
        };
        const limit = integerParameter(query, 'limit');
        const result = store.list(resource, target.namespace, limit === undefined ? listQuery : { ...listQuery, limit });
        const metadata: JsonObject = { resourceVersion: result.resourceVersion };
        if (result.continue) metadata.continue = result.continue;
        if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
        const items = result.items.map((object) => output(resource, object));
        if (wantsTable(request.headers.accept)) return new Answer(200, toTable(resource, items, { include: includeObjectOf(query), now: new Date(), listMeta: metadata }));
        return new Answer(200, { kind: resource.listKind, apiVersion: apiVersionOf(resource.group, resource.version), metadata, items });
      }
      const object = store.get(resource, namespace, name);
      if (subresource === 'scale') return new Answer(200, scaleOf(resource, object));
      return new Answer(200, serveObject(request, query, resource, object));
    }
    if (method === 'POST') {
      if (name !== undefined) throw methodNotAllowed(`POST is not allowed on a named ${resource.plural} path: create with POST on the collection`);
      checkFieldValidation(query);
      const body = asObject(decodeBody(await readBody(request, maxBodyBytes), mediaType(request.headers['content-type'])), 'the request body');
      recordUpdateManager(body, fieldManagerOf(query, request), apiVersionOf(resource.group, resource.version), new Date());
      const created = store.create(resource, namespace, body, { dryRun });
      await store.flushed();
      return new Answer(201, serveObject(request, query, resource, created));
    }
    if (method === 'PUT') {
      if (name === undefined) throw methodNotAllowed(`PUT needs the name of the ${resource.singular} in the path`);
      checkFieldValidation(query);
      const body = decodeBody(await readBody(request, maxBodyBytes), mediaType(request.headers['content-type']));
      if (subresource === 'scale') {
        const scale = updateFromScale(target, store.get(resource, namespace, name), body, dryRun);
        await store.flushed();
        return new Answer(200, scale);
      }
      const object = asObject(body, 'the request body');
      recordUpdateManager(object, fieldManagerOf(query, request), apiVersionOf(resource.group, resource.version), new Date(), subresource);
      const updated = store.update(resource, namespace, name, object, subresource === 'status' ? { dryRun, subresource } : { dryRun });
      await store.flushed();
      return new Answer(200, serveObject(request, query, resource, updated));
    }
    if (method === 'PATCH') {
      if (name === undefined) throw methodNotAllowed(`PATCH needs the name of the ${resource.singular} in the path`);
      checkFieldValidation(query);
      const type = mediaType(request.headers['content-type']);
      if (!patchTypes.includes(type)) throw unsupportedMediaType(type, patchTypes);
      const patch = decodeBody(await readBody(request, maxBodyBytes), type);
      const current = store.tryGet(resource, namespace, name);
      if (subresource === 'scale') {
        if (!current) throw notFound(resource, name);
        if (type === 'application/apply-patch+yaml') throw unsupportedMediaType(type, patchTypes.filter((candidate) => candidate !== type));
        const scale = scaleOf(resource, current);
        const patchedScale = type === 'application/json-patch+json' ? jsonPatch(scale, patch) : jsonMergePatch(scale, patch);
        const result = updateFromScale(target, current, patchedScale, dryRun);
        await store.flushed();
        return new Answer(200, result);
      }
      const { object, create } = patched(target, current, patch, type, query, request);
      const written = create
        ? store.create(resource, namespace, object, { dryRun })
        : store.update(resource, namespace, name, object, subresource === 'status' ? { dryRun, subresource } : { dryRun });
      await store.flushed();
      return new Answer(create ? 201 : 200, serveObject(request, query, resource, written));
    }
    if (method === 'DELETE') {
      const raw = await readBody(request, maxBodyBytes);
      const options = raw.toString('utf8').trim() === '' ? {} : decodeBody(raw, 'application/json');
      if (!isJsonObject(options)) throw badRequest('the DeleteOptions body must be a JSON object');
      const preconditions = isJsonObject(options.preconditions) ? options.preconditions : {};
      const bodyDryRun = Array.isArray(options.dryRun) && options.dryRun.includes('All');
      if (name === undefined) {
        const deleted = store.deleteCollection(
          resource,
          target.namespace,
          { labelSelector: query.get('labelSelector') ?? '', fieldSelector: query.get('fieldSelector') ?? '' },
          { dryRun: dryRun || bodyDryRun },
        );
        await store.flushed();
        return new Answer(200, { kind: resource.listKind, apiVersion: apiVersionOf(resource.group, resource.version), metadata: { resourceVersion: String(store.resourceVersion) }, items: deleted.map((object) => output(resource, object)) });
      }
      if (subresource !== undefined) throw methodNotAllowed(`DELETE is not allowed on ${resource.plural}/${subresource}`);
      const deleted = store.delete(
        resource,
        namespace,
        name,
        {
          ...(typeof preconditions.uid === 'string' ? { uid: preconditions.uid } : {}),
          ...(typeof preconditions.resourceVersion === 'string' ? { resourceVersion: preconditions.resourceVersion } : {}),
        },
        { dryRun: dryRun || bodyDryRun },
      );
      await store.flushed();
      return new Answer(200, output(resource, deleted));
    }
    throw methodNotAllowed(`${method} is not supported on ${resource.plural}`);
  }

  function startWatch(request: IncomingMessage, response: ServerResponse, query: URLSearchParams, target: ResourceRequest): void {
    const client = request.socket.remoteAddress ?? 'unknown';
    const open = watchesByClient.get(client) ?? 0;
    if (open >= maxWatchesPerClient) throw tooManyRequests(`too many watches from ${client}: at most ${maxWatchesPerClient} may be open at once`);
    const { resource } = target;
    const table = wantsTable(request.headers.accept);
    const include = includeObjectOf(query);
    const timeoutSeconds = integerParameter(query, 'timeoutSeconds') ?? defaultWatchTimeoutSeconds;
    const initialEvents = flagParameter(query, 'sendInitialEvents');
    const resourceVersion = query.get('resourceVersion') ?? undefined;
    const encode = (type: WatchEventType | 'BOOKMARK' | 'ERROR', object: unknown) => `${JSON.stringify({ type, object })}\n`;
    const write = (line: string) => {
      response.write(line);
      if (response.writableLength > maxWatchBufferBytes) {
        log(`watch of ${resource.plural} from ${client} cut: the client reads too slowly (${response.writableLength} bytes buffered)`);
        response.destroy();
      }
    };
    const bookmark = (annotations?: Record<string, string>) =>
      encode('BOOKMARK', { kind: resource.kind, apiVersion: apiVersionOf(resource.group, resource.version), metadata: { resourceVersion: String(store.resourceVersion), ...(annotations ? { annotations } : {}) } });
    const send = (type: WatchEventType, object: KubeObject) => {
      const shown = output(resource, object);
      write(encode(type, table ? toTable(resource, [shown], { include, now: new Date() }) : shown));
    };
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    response.flushHeaders();
    let stop: (() => void) | undefined;
    try {
      stop = store.watch(
        resource,
        target.namespace,
        {
          ...(query.get('labelSelector') !== null ? { labelSelector: query.get('labelSelector') ?? '' } : {}),
          ...(query.get('fieldSelector') !== null ? { fieldSelector: query.get('fieldSelector') ?? '' } : {}),
          // sendInitialEvents=true asks for the current state first, whatever resourceVersion says.
          ...(resourceVersion !== undefined && !initialEvents ? { resourceVersion } : {}),
        },
        send,
      );
    } catch (error) {
      const status = error instanceof StatusError ? error.status : internalError((error as Error).message).status;
      response.end(encode('ERROR', status));
      return;
    }
    if (initialEvents && flagParameter(query, 'allowWatchBookmarks')) write(bookmark({ 'k8s.io/initial-events-end': 'true' }));
    watchesByClient.set(client, open + 1);
    openWatches.add(response);
    const bookmarks = flagParameter(query, 'allowWatchBookmarks') ? setInterval(() => write(bookmark()), bookmarkIntervalMs) : undefined;
    const timeout = setTimeout(() => response.end(), timeoutSeconds * 1000);
    const finish = () => {
      stop?.();
      stop = undefined;
      clearInterval(bookmarks);
      clearTimeout(timeout);
      openWatches.delete(response);
      const count = (watchesByClient.get(client) ?? 1) - 1;
      if (count <= 0) watchesByClient.delete(client);
      else watchesByClient.set(client, count);
    };
    response.on('close', finish);
    response.on('finish', finish);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://lab-apiserver');
    const segments = url.pathname.split('/').filter((segment) => segment !== '').map((segment) => decodeURIComponent(segment));
    const method = request.method ?? 'GET';
    if (method === 'GET' && segments.length === 1 && segments[0] === 'version') return sendJson(response, 200, serverVersion);
    if (method === 'GET' && segments.length === 1 && ['healthz', 'livez', 'readyz'].includes(segments[0] ?? '')) {
      response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('ok');
      return;
    }
    if (method === 'GET' && segments.length === 2 && segments[0] === 'openapi' && segments[1] === 'v2') {
      if (!(request.headers.accept ?? '').includes('protobuf')) return sendJson(response, 200, openApiV2Json);
      response.writeHead(200, { 'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': openApiV2Protobuf.length });
      response.end(openApiV2Protobuf);
      return;
    }
    if (method === 'GET') {
      const document = segments[0] === 'openapi' && segments[1] === 'v3' ? (segments.length === 2 ? openApi.root() : openApi.documentAt(segments.slice(2))) : discovery(segments);
      if (document !== undefined) return sendJson(response, 200, document);
    }
    const target = resolveResource(segments);
    if (!target) throw notFoundPath();
    const answer = await handleResource(request, response, url, target);
    if (answer) sendJson(response, answer.code, answer.body);
  }

  const listener = (request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: unknown) => {
      if (error instanceof StatusError) sendStatus(response, error.status);
      else {
        log(`lab apiserver: ${request.method ?? ''} ${request.url ?? ''} failed: ${(error as Error).stack ?? String(error)}`);
        sendStatus(response, internalError((error as Error).message).status);
      }
    });
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener) : createHttpServer(listener);
  // A client gets this long to send its request; watches then stream for as long as they last.
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;
  server.on('clientError', (_error, socket) => socket.destroy());

  function listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  async function close(): Promise<void> {
    for (const watch of openWatches) watch.end();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  return { server, listen, close, get watchCount(): number { return openWatches.size; } } as const;
}

export type LabApiServer = ReturnType<typeof createLabApiServer>;
