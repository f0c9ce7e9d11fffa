// Server-side apply (PATCH with application/apply-patch+yaml), simplified from kube-apiserver's
// structured-merge-diff: the applied configuration is merged into the live object (strategic merge
// for built-in kinds, so keyed lists merge by their key; JSON merge for custom resources), and each
// Apply manager's fields are recorded in managedFields (FieldsV1). What this double does and does not:
// - a field the same manager applied before and leaves out now is removed, unless another Apply
//   manager owns it too;
// - a conflict is only reported against another *Apply* manager that owns a field with a different
//   value (409 with the fields as causes; `force=true` takes them over). Writes that are not applies
//   (PUT, other patches) are recorded as an `Update` entry without field ownership, so they never
//   conflict.
import { cloneJson, isJsonObject, jsonEqual, type JsonObject, type JsonValue, type KubeObject } from './kubeObject.ts';
import { jsonMergePatch, listStrategy, strategicMergePatch } from './patch.ts';
import { StatusError, type StatusCause } from './status.ts';

type FieldPath = string[];

const untracked = new Set(['apiVersion', 'kind']);
const untrackedMetadata = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'deletionTimestamp']);

/** Every owned field of an applied configuration, as FieldsV1 paths (`f:spec`, `k:{"name":"web"}`, `v:"x"`, `.`). */
function fieldPaths(value: unknown, path: FieldPath, semanticPath: string[], customResource: boolean): FieldPath[] {
  if (isJsonObject(value)) {
    const entries = Object.entries(value).filter(([key]) => {
      if (path.length === 0) return !untracked.has(key);
      if (path.length === 1 && path[0] === 'f:metadata') return !untrackedMetadata.has(key);
      return true;
    });
    // An object whose every field is untracked (metadata with only a name) owns nothing.
    if (entries.length === 0) return Object.keys(value).length === 0 ? [path] : [];
    return entries.flatMap(([key, child]) => fieldPaths(child, [...path, `f:${key}`], [...semanticPath, key], customResource));
  }
  if (Array.isArray(value) && !customResource) {
    const strategy = listStrategy(semanticPath);
    if (typeof strategy === 'object') {
      return value.filter(isJsonObject).flatMap((item) => {
        const element = [...path, `k:${JSON.stringify({ [strategy.mergeKey]: item[strategy.mergeKey] ?? null })}`];
        return [[...element, '.'], ...fieldPaths(item, element, semanticPath, customResource).filter((child) => child.length > element.length)];
      });
    }
    if (strategy === 'primitiveSet') return value.map((item) => [...path, `v:${JSON.stringify(item)}`]);
  }
  return [path];
}

function toFieldsV1(paths: FieldPath[]): JsonObject {
  const root: JsonObject = {};
  for (const path of paths) {
    let node = root;
    for (const segment of path) {
      const child = isJsonObject(node[segment]) ? (node[segment] as JsonObject) : {};
      node[segment] = child;
      node = child;
    }
  }
  return root;
}

function fromFieldsV1(fields: unknown, prefix: FieldPath = []): FieldPath[] {
  if (!isJsonObject(fields)) return [];
  const entries = Object.entries(fields);
  if (entries.length === 0) return prefix.length > 0 ? [prefix] : [];
  return entries.flatMap(([segment, child]) => fromFieldsV1(child, [...prefix, segment]));
}

function pathKey(path: FieldPath): string {
  return JSON.stringify(path);
}

function keyMatches(item: unknown, segment: string): boolean {
  const key: unknown = JSON.parse(segment.slice(2));
  return isJsonObject(item) && isJsonObject(key) && Object.entries(key).every(([field, value]) => jsonEqual(item[field] ?? null, value));
}

function valueAtPath(object: unknown, path: FieldPath): unknown {
  let current: unknown = object;
  for (const segment of path) {
    if (segment === '.') return current;
    if (segment.startsWith('f:') && isJsonObject(current)) current = current[segment.slice(2)];
    else if (segment.startsWith('k:') && Array.isArray(current)) current = current.find((item) => keyMatches(item, segment));
    else if (segment.startsWith('v:') && Array.isArray(current)) {
      const wanted: unknown = JSON.parse(segment.slice(2));
      current = current.find((item) => jsonEqual(item, wanted));
    } else return undefined;
  }
  return current;
}

function removePath(object: JsonObject, path: FieldPath): void {
  const last = path[path.length - 1] ?? '';
  const containerPath = last === '.' ? path.slice(0, -2) : path.slice(0, -1);
  const target = last === '.' ? (path[path.length - 2] ?? '') : last;
  const container = valueAtPath(object, containerPath);
  if (target.startsWith('f:') && isJsonObject(container)) delete container[target.slice(2)];
  else if (Array.isArray(container)) {
    const index = target.startsWith('k:')
      ? container.findIndex((item) => keyMatches(item, target))
      : container.findIndex((item) => jsonEqual(item, JSON.parse(target.slice(2))));
    if (index !== -1) container.splice(index, 1);
  }
}

function readableField(path: FieldPath): string {
  return path
    .filter((segment) => segment !== '.')
    .map((segment) => (segment.startsWith('f:') ? `.${segment.slice(2)}` : `[${segment.slice(2)}]`))
    .join('');
}

export interface ApplyRequest {
  live: KubeObject | undefined;
  applied: KubeObject;
  fieldManager: string;
  force: boolean;
  customResource: boolean;
  apiVersion: string;
  now: Date;
}

function managedEntry(manager: string, operation: 'Apply' | 'Update', apiVersion: string, now: Date, paths: FieldPath[] | undefined, subresource?: string): JsonObject {
  const entry: JsonObject = { manager, operation, apiVersion, time: `${now.toISOString().slice(0, 19)}Z`, fieldsType: 'FieldsV1' };
  entry.fieldsV1 = paths ? toFieldsV1(paths) : {};
  if (subresource) entry.subresource = subresource;
  return entry;
}

/** The object an apply produces (to be created when `live` is absent, else updated), with its managedFields. */
export function serverSideApply(request: ApplyRequest): KubeObject {
  const { live, applied, fieldManager, customResource } = request;
  const appliedPaths = fieldPaths(applied, [], [], customResource);
  if (!live) {
    const created = cloneJson(applied);
    created.metadata = { ...(created.metadata ?? {}), managedFields: [managedEntry(fieldManager, 'Apply', request.apiVersion, request.now, appliedPaths)] };
    return created;
  }
  const entries = (live.metadata.managedFields ?? []).filter(isJsonObject);
  const others = entries.filter((entry) => !(entry.manager === fieldManager && entry.operation === 'Apply'));
  const previous = entries.find((entry) => entry.manager === fieldManager && entry.operation === 'Apply');
  const appliedKeys = new Set(appliedPaths.map(pathKey));

  const conflicts: StatusCause[] = [];
  const othersAfter = others.map((entry) => {
    if (entry.operation !== 'Apply') return entry;
    const owned = fromFieldsV1(entry.fieldsV1);
    const contested = owned.filter((path) => appliedKeys.has(pathKey(path)) && !jsonEqual(valueAtPath(live, path), valueAtPath(applied, path)));
    if (contested.length === 0) return entry;
    if (!request.force) {
      for (const path of contested) {
        conflicts.push({ reason: 'FieldManagerConflict', message: `conflict with "${String(entry.manager)}" using ${String(entry.apiVersion)}`, field: readableField(path) });
      }
      return entry;
    }
    const contestedKeys = new Set(contested.map(pathKey));
    return { ...entry, fieldsV1: toFieldsV1(owned.filter((path) => !contestedKeys.has(pathKey(path)))) };
  });
  if (conflicts.length > 0) {
    const list = conflicts.map((cause) => `${cause.message}: ${cause.field ?? ''}`).join('\n- ');
    throw new StatusError(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'}: ${conflicts.length === 1 ? list : `\n- ${list}`}`, { causes: conflicts });
  }

  const { metadata: appliedMetadata, ...appliedRest } = applied;
  const patch = { ...appliedRest, metadata: { labels: appliedMetadata.labels, annotations: appliedMetadata.annotations, finalizers: appliedMetadata.finalizers } } as JsonObject;
  const patchMetadata = patch.metadata as JsonObject;
  for (const key of Object.keys(patchMetadata)) if (patchMetadata[key] === undefined) delete patchMetadata[key];
  const merged = (customResource ? jsonMergePatch(live, patch) : strategicMergePatch(live, patch)) as KubeObject;

  const ownedByOthers = new Set(othersAfter.filter((entry) => entry.operation === 'Apply').flatMap((entry) => fromFieldsV1(entry.fieldsV1).map(pathKey)));
  const dropped = fromFieldsV1(previous?.fieldsV1)
    .filter((path) => !appliedKeys.has(pathKey(path)) && !ownedByOthers.has(pathKey(path)))
    .sort((a, b) => b.length - a.length);
  for (const path of dropped) removePath(merged as unknown as JsonObject, path);

  merged.metadata = {
    ...merged.metadata,
    managedFields: [...othersAfter, managedEntry(fieldManager, 'Apply', request.apiVersion, request.now, appliedPaths)] as JsonObject[],
  };
  return merged;
}

/** Records a non-apply write's manager in managedFields, as an Update entry without owned fields. */
export function recordUpdateManager(object: KubeObject, manager: string | undefined, apiVersion: string, now: Date, subresource?: string): void {
  if (!manager) return;
  const entries = (object.metadata.managedFields ?? []).filter(isJsonObject);
  if (entries.some((entry) => entry.manager === manager && entry.operation === 'Update' && (entry.subresource ?? '') === (subresource ?? ''))) return;
  object.metadata.managedFields = [...entries, managedEntry(manager, 'Update', apiVersion, now, undefined, subresource)] as JsonValue[] as JsonObject[];
}
