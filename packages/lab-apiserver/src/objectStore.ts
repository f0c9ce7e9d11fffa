// The storage core of the API server double: objects by resource, namespace and name, one
// cluster-wide resourceVersion that every write increases, the watch history, and persistence.
// It plays kube-apiserver's registry (generic REST storage + etcd): the HTTP edge only decodes
// requests, calls one of these operations and encodes what comes back or the StatusError thrown.
import { randomUUID } from 'node:crypto';

import { applyDefaults, defaultServiceAddressRange, type AllocatedAddresses, type ServiceAddressRange } from './defaults.ts';
import { apiVersionOf, cloneJson, isJsonObject, jsonEqual, type KubeObject } from './kubeObject.ts';
import { openPersistence, type Persistence } from './persistence.ts';
import { storageKeyOf, type ResourceDefinition, type ResourceRegistry } from './resourceRegistry.ts';
import { parseFieldSelector, parseLabelSelector, type FieldSelector, type LabelSelector } from './selectors.ts';
import { alreadyExists, badRequest, conflict, expired, invalid, notFound, StatusError, tooManyRequests } from './status.ts';
import { validateObject } from './validation.ts';
import { createWatchCache, type StoredEvent, type WatchEventType } from './watchCache.ts';

export interface ObjectStoreOptions {
  registry: ResourceRegistry;
  /** Where the state survives restarts; without it the store lives in memory only. */
  dataDir?: string;
  /** How many past writes watches can resume from. */
  historyCapacity?: number;
  /** The most objects the store holds; creates beyond it get 429. */
  maxObjects?: number;
  serviceRange?: ServiceAddressRange;
  compactAfterWrites?: number;
  now?: () => Date;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchQuery {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
}

export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
}

const protectedNamespaces = new Set(['default', 'kube-system', 'kube-public']);
const generateNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function persistedKey(storageKey: string, namespace: string, name: string): string {
  return `${storageKey}|${namespace}|${name}`;
}

function timestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function parseResourceVersion(text: string, parameter: string): number {
  if (!/^\d+$/.test(text)) throw badRequest(`invalid ${parameter} "${text}": expected a resourceVersion (a decimal number) as this server issues them`);
  return Number(text);
}

interface ContinueToken {
  resourceVersion: number;
  after: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'tycho.lab/v1', rv: token.resourceVersion, start: token.after })).toString('base64url');
}

function decodeContinue(text: string): ContinueToken {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (isJsonObject(parsed) && parsed.v === 'tycho.lab/v1' && Number.isInteger(parsed.rv) && typeof parsed.start === 'string') {
      return { resourceVersion: parsed.rv as number, after: parsed.start };
    }
  } catch {
    // Falls through to the BadRequest below: the token was not one this server issued.
  }
  throw badRequest('continue key is not valid: it was not issued by this server');
}

/** Everything but metadata and status: a change here bumps metadata.generation. */
function specPart(object: KubeObject): Record<string, unknown> {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return rest;
}

/** The object as a write would store it, ignoring what every write changes anyway. */
function comparable(object: KubeObject): KubeObject {
  const { resourceVersion: _resourceVersion, managedFields: _managedFields, ...metadata } = object.metadata;
  return { ...object, metadata };
}

export function createObjectStore(options: ObjectStoreOptions) {
  const { registry } = options;
  const now = options.now ?? (() => new Date());
  const serviceRange = options.serviceRange ?? defaultServiceAddressRange;
  const maxObjects = options.maxObjects ?? 250_000;
  const buckets = new Map<string, Map<string, KubeObject>>();
  let objectCount = 0;
  let persistence: Persistence | undefined;
  let resourceVersion = 0;
  let restoredWrites: StoredEvent[] = [];

  function bucketOf(storageKey: string): Map<string, KubeObject> {
    let bucket = buckets.get(storageKey);
    if (!bucket) {
      bucket = new Map();
      buckets.set(storageKey, bucket);
    }
    return bucket;
  }

  if (options.dataDir) {
    persistence = openPersistence(options.dataDir, options.compactAfterWrites === undefined ? {} : { compactAfterWrites: options.compactAfterWrites });
    const loaded = persistence.load();
    resourceVersion = loaded.resourceVersion;
    for (const [key, object] of loaded.objects) {
      const [storageKey = '', namespace = '', name = ''] = key.split('|');
      bucketOf(storageKey).set(objectKey(namespace, name), object);
      objectCount += 1;
    }
    // The log's writes become watch history again, so a client may resume across the restart.
    const previousByKey = new Map<string, KubeObject>();
    restoredWrites = loaded.writes.flatMap((write) => {
      const [storageKey = '', namespace = '', name = ''] = write.key.split('|');
      const previous = previousByKey.get(write.key);
      if (write.object) previousByKey.set(write.key, write.object);
      else previousByKey.delete(write.key);
      const object = write.object ?? (previous ? { ...previous, metadata: { ...previous.metadata, resourceVersion: String(write.resourceVersion) } } : undefined);
      if (!object) return [];
      const type: WatchEventType = !write.object ? 'DELETED' : previous ? 'MODIFIED' : 'ADDED';
      const event: StoredEvent = { resourceVersion: write.resourceVersion, type, storageKey, namespace, name, object };
      if (previous) event.previous = previous;
      return [event];
    });
  }

  const firstRestored = restoredWrites[0]?.resourceVersion;
  const watchCache = createWatchCache({
    capacity: options.historyCapacity ?? 50_000,
    // Only an event the log still had can be replayed; anything before the first of them is gone.
    startResourceVersion: firstRestored === undefined ? resourceVersion : firstRestored - 1,
  });
  for (const event of restoredWrites) watchCache.append(event);
  restoredWrites = [];

  for (const crd of bucketOf(storageKeyOf({ group: 'apiextensions.k8s.io', plural: 'customresourcedefinitions' })).values()) {
    registry.defineCustomResources(crd);
  }

  function allocatedAddresses(): AllocatedAddresses {
    const used: AllocatedAddresses = { clusterIps: new Set(['10.96.0.1']), nodePorts: new Set() };
    for (const service of bucketOf('/services').values()) {
      const spec = isJsonObject(service.spec) ? service.spec : {};
      if (typeof spec.clusterIP === 'string') used.clusterIps.add(spec.clusterIP);
      for (const port of Array.isArray(spec.ports) ? spec.ports.filter(isJsonObject) : []) {
        if (typeof port.nodePort === 'number') used.nodePorts.add(port.nodePort);
      }
    }
    return used;
  }

  /** Stores one write under the next resourceVersion, logs it and tells the watches. */
  function commit(resource: ResourceDefinition, namespace: string, name: string, object: KubeObject, previous: KubeObject | undefined, type: WatchEventType): KubeObject {
    resourceVersion += 1;
    const stored: KubeObject = { ...object, metadata: { ...object.metadata, resourceVersion: String(resourceVersion) } };
    const storageKey = storageKeyOf(resource);
    const bucket = bucketOf(storageKey);
    if (type === 'DELETED') {
      bucket.delete(objectKey(namespace, name));
      objectCount -= 1;
    } else {
      if (!previous) objectCount += 1;
      bucket.set(objectKey(namespace, name), stored);
    }
    persistence?.append({ resourceVersion, key: persistedKey(storageKey, namespace, name), object: type === 'DELETED' ? null : stored });
    const event: StoredEvent = { resourceVersion, type, storageKey, namespace, name, object: stored };
    if (previous) event.previous = previous;
    watchCache.append(event);
    if (persistence?.needsCompaction()) persistence.compact(resourceVersion, persistedObjects());
    return stored;
  }

  function* persistedObjects(): Generator<[string, KubeObject]> {
    for (const [storageKey, bucket] of buckets) {
      for (const object of bucket.values()) {
        yield [persistedKey(storageKey, object.metadata.namespace ?? '', object.metadata.name ?? ''), object];
      }
    }
  }

  function checkTypeMeta(resource: ResourceDefinition, object: KubeObject): void {
    const expectedApiVersion = apiVersionOf(resource.group, resource.version);
    if (object.apiVersion !== undefined && object.apiVersion !== '' && object.apiVersion !== expectedApiVersion) {
      throw badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expectedApiVersion})`);
    }
    if (object.kind !== undefined && object.kind !== '' && object.kind !== resource.kind) {
      throw badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${resource.kind}) of ${expectedApiVersion} ${resource.plural}`);
    }
  }

  function normalizeBody(resource: ResourceDefinition, namespace: string, body: KubeObject): KubeObject {
    const object = cloneJson(body);
    if (!isJsonObject(object.metadata)) object.metadata = {};
    checkTypeMeta(resource, object);
    object.apiVersion = apiVersionOf(resource.group, resource.version);
    object.kind = resource.kind;
    if (resource.namespaced) {
      if (object.metadata.namespace && object.metadata.namespace !== namespace) {
        throw badRequest(`the namespace of the provided object (${object.metadata.namespace}) does not match the namespace sent on the request (${namespace})`);
      }
      object.metadata.namespace = namespace;
    } else delete object.metadata.namespace;
    return object;
  }

  function customResourceDefinitionStatus(crd: KubeObject): void {
    const spec = isJsonObject(crd.spec) ? crd.spec : {};
    const at = timestamp(now());
    const versions = Array.isArray(spec.versions) ? spec.versions.filter(isJsonObject) : [];
    crd.status = {
      acceptedNames: isJsonObject(spec.names) ? spec.names : {},
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: at },
        { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: at },
      ],
      storedVersions: versions.filter((version) => version.storage === true).map((version) => String(version.name)),
    };
  }

  function isCustomResourceDefinition(resource: ResourceDefinition): boolean {
    return resource.group === 'apiextensions.k8s.io' && resource.plural === 'customresourcedefinitions';
  }

  function tryGet(resource: ResourceDefinition, namespace: string, name: string): KubeObject | undefined {
    return buckets.get(storageKeyOf(resource))?.get(objectKey(resource.namespaced ? namespace : '', name));
  }

  function get(resource: ResourceDefinition, namespace: string, name: string): KubeObject {
    const object = tryGet(resource, namespace, name);
    if (!object) throw notFound(resource, name);
    return object;
  }

  function create(resource: ResourceDefinition, namespace: string, body: KubeObject, writeOptions: WriteOptions = {}): KubeObject {
    const scopedNamespace = resource.namespaced ? namespace : '';
    const object = normalizeBody(resource, scopedNamespace, body);
    const metadata = object.metadata;
    if (!metadata.name && metadata.generateName) {
      let suffix = '';
      for (let index = 0; index < 5; index += 1) suffix += generateNameAlphabet[Math.floor(Math.random() * generateNameAlphabet.length)];
      metadata.name = `${metadata.generateName}${suffix}`;
    }
    if (!metadata.name) {
      throw invalid(resource.group, resource.kind, '', [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }]);
    }
    const name = metadata.name;
    applyDefaults(resource, object, undefined, { range: serviceRange, used: allocatedAddresses });
    validateObject(resource, object);
    if (resource.namespaced && !tryGet(namespaces(), '', scopedNamespace)) throw notFound(namespaces(), scopedNamespace);
    if (tryGet(resource, scopedNamespace, name)) throw alreadyExists(resource, name);
    if (objectCount >= maxObjects) throw tooManyRequests(`the lab API server holds at most ${maxObjects} objects; delete some before creating more`);
    metadata.uid = randomUUID();
    metadata.creationTimestamp = timestamp(now());
    metadata.generation = 1;
    delete metadata.deletionTimestamp;
    delete metadata.deletionGracePeriodSeconds;
    delete metadata.resourceVersion;
    if (isCustomResourceDefinition(resource)) customResourceDefinitionStatus(object);
    if (writeOptions.dryRun) return object;
    const stored = commit(resource, scopedNamespace, name, object, undefined, 'ADDED');
    if (isCustomResourceDefinition(resource)) registry.defineCustomResources(stored);
    return stored;
  }

  function checkResourceVersion(resource: ResourceDefinition, name: string, current: KubeObject, expected: string | undefined): void {
    if (expected !== undefined && expected !== '' && expected !== current.metadata.resourceVersion) {
      throw conflict(resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
  }

  /**
   * Replaces an object (PUT), or its status with `subresource: 'status'`. A stale
   * metadata.resourceVersion is a 409 Conflict; a write that changes nothing stores nothing.
   */
  function update(
    resource: ResourceDefinition,
    namespace: string,
    name: string,
    body: KubeObject,
    writeOptions: WriteOptions & { subresource?: 'status' } = {},
  ): KubeObject {
    const scopedNamespace = resource.namespaced ? namespace : '';
    const current = get(resource, scopedNamespace, name);
    const incoming = normalizeBody(resource, scopedNamespace, body);
    if (incoming.metadata.name && incoming.metadata.name !== name) {
      throw badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    }
    checkResourceVersion(resource, name, current, incoming.metadata.resourceVersion);
    let next: KubeObject;
    if (writeOptions.subresource === 'status') {
      next = { ...cloneJson(current), status: incoming.status };
      if (incoming.status === undefined) delete next.status;
    } else {
      next = incoming;
      next.metadata.name = name;
      if (resource.subresources.status) {
        if (current.status === undefined) delete next.status;
        else next.status = cloneJson(current.status);
      }
      const metadata = next.metadata;
      metadata.uid = current.metadata.uid ?? randomUUID();
      metadata.creationTimestamp = current.metadata.creationTimestamp ?? timestamp(now());
      if (current.metadata.deletionTimestamp) metadata.deletionTimestamp = current.metadata.deletionTimestamp;
      else delete metadata.deletionTimestamp;
      if (current.metadata.deletionGracePeriodSeconds !== undefined) metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
      if (metadata.managedFields === undefined && current.metadata.managedFields) metadata.managedFields = current.metadata.managedFields;
      applyDefaults(resource, next, current, { range: serviceRange, used: allocatedAddresses });
    }
    next.metadata.generation = current.metadata.generation ?? 1;
    if (!jsonEqual(specPart(next), specPart(current))) next.metadata.generation += 1;
    validateObject(resource, next);
    if (isCustomResourceDefinition(resource) && writeOptions.subresource !== 'status') customResourceDefinitionStatus(next);
    if (jsonEqual(comparable(next), comparable(current)) && jsonEqual(next.metadata.managedFields, current.metadata.managedFields)) return current;
    if (writeOptions.dryRun) return { ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion ?? '' } };
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      return removeNow(resource, scopedNamespace, name, next);
    }
    const stored = commit(resource, scopedNamespace, name, next, current, 'MODIFIED');
    if (isCustomResourceDefinition(resource)) registry.defineCustomResources(stored);
    return stored;
  }

  function namespaces(): ResourceDefinition {
    const resource = registry.find('', 'v1', 'namespaces');
    if (!resource) throw new Error('the registry lost its namespaces resource');
    return resource;
  }

  /** Removes an object for good, with what depends on it: a namespace's objects, a CRD's custom resources. */
  function removeNow(resource: ResourceDefinition, namespace: string, name: string, last: KubeObject): KubeObject {
    const current = get(resource, namespace, name);
    const removed = commit(resource, namespace, name, last, current, 'DELETED');
    if (storageKeyOf(resource) === '/namespaces') {
      for (const candidate of registry.all()) {
        if (!candidate.namespaced) continue;
        for (const object of [...(buckets.get(storageKeyOf(candidate))?.values() ?? [])]) {
          if (object.metadata.namespace === name) removeNow(candidate, name, object.metadata.name ?? '', object);
        }
      }
    } else if (isCustomResourceDefinition(resource)) {
      const served = registry.all().filter((candidate) => candidate.definedBy === name);
      registry.forgetCustomResources(name);
      const first = served[0];
      if (first) {
        for (const object of [...(buckets.get(storageKeyOf(first))?.values() ?? [])]) {
          removeNow(first, object.metadata.namespace ?? '', object.metadata.name ?? '', object);
        }
      }
    }
    return removed;
  }

  /**
   * Deletes an object: at once when it has no finalizers, otherwise by setting deletionTimestamp
   * and leaving it until an update removes the last finalizer.
   */
  function deleteObject(resource: ResourceDefinition, namespace: string, name: string, preconditions: DeletePreconditions = {}, writeOptions: WriteOptions = {}): KubeObject {
    const scopedNamespace = resource.namespaced ? namespace : '';
    const current = get(resource, scopedNamespace, name);
    if (preconditions.uid && preconditions.uid !== current.metadata.uid) {
      throw conflict(resource, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
    }
    if (preconditions.resourceVersion && preconditions.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(resource, name, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`);
    }
    if (storageKeyOf(resource) === '/namespaces' && protectedNamespaces.has(name)) {
      throw new StatusError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    }
    if (writeOptions.dryRun) return current;
    if ((current.metadata.finalizers ?? []).length > 0) {
      if (current.metadata.deletionTimestamp) return current;
      const marked: KubeObject = { ...current, metadata: { ...current.metadata, deletionTimestamp: timestamp(now()), deletionGracePeriodSeconds: 0 } };
      return commit(resource, scopedNamespace, name, marked, current, 'MODIFIED');
    }
    return removeNow(resource, scopedNamespace, name, current);
  }

  function selected(resource: ResourceDefinition, namespace: string | undefined, labels: LabelSelector, fields: FieldSelector): KubeObject[] {
    const bucket = buckets.get(storageKeyOf(resource));
    if (!bucket) return [];
    const scoped = resource.namespaced ? namespace : undefined;
    if (fields.name !== undefined && scoped !== undefined) {
      const object = bucket.get(objectKey(scoped, fields.name));
      return object && labels.matches(object.metadata.labels) && fields.matches(object) ? [object] : [];
    }
    const keys = [...bucket.keys()].sort();
    const items: KubeObject[] = [];
    for (const key of keys) {
      const object = bucket.get(key);
      if (!object) continue;
      if (scoped !== undefined && object.metadata.namespace !== scoped) continue;
      if (labels.matches(object.metadata.labels) && fields.matches(object)) items.push(object);
    }
    return items;
  }

  /** Lists in namespace/name order; `limit` pages the list with an opaque continue token. */
  function list(resource: ResourceDefinition, namespace: string | undefined, query: ListQuery = {}): ListResult {
    const labels = parseLabelSelector(query.labelSelector);
    const fields = parseFieldSelector(query.fieldSelector);
    let listVersion = resourceVersion;
    let after: string | undefined;
    if (query.resourceVersionMatch && query.resourceVersion === undefined) {
      throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    }
    if (query.continueToken) {
      if (query.resourceVersion !== undefined && query.resourceVersion !== '' && query.resourceVersion !== '0') {
        throw badRequest('specifying resource version is not allowed when using continue');
      }
      const token = decodeContinue(query.continueToken);
      if (token.resourceVersion < watchCache.oldestResourceVersion) {
        throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      listVersion = token.resourceVersion;
      after = token.after;
    } else if (query.resourceVersion !== undefined && query.resourceVersion !== '') {
      const requested = parseResourceVersion(query.resourceVersion, 'resourceVersion');
      if (query.resourceVersionMatch === 'Exact' && requested !== resourceVersion) {
        throw expired(`too old resource version: ${requested} (${resourceVersion}); this server lists only its current state`);
      }
      if (query.resourceVersionMatch !== undefined && query.resourceVersionMatch !== 'Exact' && query.resourceVersionMatch !== 'NotOlderThan') {
        throw badRequest(`resourceVersionMatch "${query.resourceVersionMatch}" is not supported: expected Exact or NotOlderThan`);
      }
      if (requested > resourceVersion) {
        throw new StatusError(504, 'Timeout', `Too large resource version: ${requested}, current: ${resourceVersion}`, { retryAfterSeconds: 1 });
      }
    }
    let items = selected(resource, namespace, labels, fields);
    if (after !== undefined) {
      const start = after;
      items = items.filter((object) => objectKey(object.metadata.namespace ?? '', object.metadata.name ?? '') > start);
    }
    const result: ListResult = { items, resourceVersion: String(listVersion) };
    const limit = query.limit;
    if (limit !== undefined && limit > 0 && items.length > limit) {
      const page = items.slice(0, limit);
      const last = page[page.length - 1];
      result.items = page;
      result.continue = encodeContinue({ resourceVersion: listVersion, after: objectKey(last?.metadata.namespace ?? '', last?.metadata.name ?? '') });
      result.remainingItemCount = items.length - limit;
    }
    return result;
  }

  function deleteCollection(resource: ResourceDefinition, namespace: string | undefined, query: Pick<ListQuery, 'labelSelector' | 'fieldSelector'>, writeOptions: WriteOptions = {}): KubeObject[] {
    const items = selected(resource, namespace, parseLabelSelector(query.labelSelector), parseFieldSelector(query.fieldSelector));
    return items.map((object) => deleteObject(resource, object.metadata.namespace ?? '', object.metadata.name ?? '', {}, writeOptions));
  }

  /**
   * Starts a watch: the current objects as ADDED when no resourceVersion (or "0") is given,
   * otherwise every held event after it; then live events. Objects leaving a selector arrive as
   * DELETED, objects entering it as ADDED, as kube-apiserver's watch cache sends them.
   */
  function watch(
    resource: ResourceDefinition,
    namespace: string | undefined,
    query: WatchQuery,
    send: (type: WatchEventType, object: KubeObject) => void,
  ): () => void {
    const labels = parseLabelSelector(query.labelSelector);
    const fields = parseFieldSelector(query.fieldSelector);
    const storageKey = storageKeyOf(resource);
    const scoped = resource.namespaced ? namespace : undefined;
    const matches = (object: KubeObject) => labels.matches(object.metadata.labels) && fields.matches(object);
    const deliver = (event: StoredEvent) => {
      if (event.storageKey !== storageKey || (scoped !== undefined && event.namespace !== scoped)) return;
      const now_ = matches(event.object);
      const before = event.previous ? matches(event.previous) : false;
      if (event.type === 'ADDED') {
        if (now_) send('ADDED', event.object);
      } else if (event.type === 'DELETED') {
        if (now_ || before) send('DELETED', event.object);
      } else if (now_ && before) send('MODIFIED', event.object);
      else if (now_) send('ADDED', event.object);
      else if (before) send('DELETED', event.object);
    };
    const from = query.resourceVersion;
    if (from === undefined || from === '' || from === '0') {
      for (const object of selected(resource, namespace, labels, fields)) send('ADDED', object);
    } else {
      const requested = parseResourceVersion(from, 'resourceVersion');
      const backlog = watchCache.eventsAfter(requested);
      if (backlog === 'expired') throw expired(`too old resource version: ${requested} (${watchCache.oldestResourceVersion})`);
      for (const event of backlog) deliver(event);
    }
    return watchCache.subscribe(deliver);
  }

  function seedDefaults(): void {
    if (objectCount > 0) return;
    const namespaceResource = namespaces();
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      create(namespaceResource, '', { metadata: { name } });
    }
    const services = registry.find('', 'v1', 'services');
    if (services) {
      create(services, 'default', {
        metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], type: 'ClusterIP' },
      });
    }
  }
  seedDefaults();

  return {
    registry,
    get,
    tryGet,
    create,
    update,
    delete: deleteObject,
    deleteCollection,
    list,
    watch,
    /** Resolves once every acknowledged write is on disk. */
    flushed: (): Promise<void> => persistence?.flushed() ?? Promise.resolve(),
    close: (): void => persistence?.close(),
    get resourceVersion(): number {
      return resourceVersion;
    },
    get objectCount(): number {
      return objectCount;
    },
  } as const;
}

export type ObjectStore = ReturnType<typeof createObjectStore>;
