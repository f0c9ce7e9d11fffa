// The three patch formats kubectl sends: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
// Kubernetes' strategic merge patch, which merges lists of built-in types by their patchMergeKey
// (containers by name, container ports by containerPort, …) instead of replacing them, and obeys
// the `$patch`, `$setElementOrder/…`, `$retainKeys` and `$deleteFromPrimitiveList/…` directives
// that kubectl apply writes.
import { cloneJson, isJsonObject, jsonEqual, type JsonObject, type JsonValue } from './kubeObject.ts';
import { badRequest, StatusError } from './status.ts';

export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const result: JsonObject = isJsonObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = jsonMergePatch(result[key], value) as JsonValue;
  }
  return result;
}

function unprocessable(message: string): StatusError {
  return new StatusError(422, 'Invalid', message);
}

function pointerTokens(pointer: string, operationIndex: number): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`json patch operation ${operationIndex}: path "${pointer}" is not a JSON pointer (it must start with "/")`);
  return pointer.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean, where: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw unprocessable(`${where}: "${token}" is not an array index`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) throw unprocessable(`${where}: index ${index} is out of bounds (the array has ${length} items)`);
  return index;
}

interface Location {
  parent: JsonValue[] | JsonObject;
  token: string;
}

function locate(document: JsonValue, tokens: string[], where: string): Location {
  let current: JsonValue = document;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[arrayIndex(token, current.length, false, where)] ?? null;
    else if (isJsonObject(current) && Object.hasOwn(current, token)) current = current[token] ?? null;
    else throw unprocessable(`${where}: the path does not exist (no "${token}")`);
  }
  if (!Array.isArray(current) && !isJsonObject(current)) throw unprocessable(`${where}: the parent of the path is not an object or array`);
  return { parent: current, token: tokens[tokens.length - 1] ?? '' };
}

function valueAt(document: JsonValue, tokens: string[], where: string): JsonValue {
  if (tokens.length === 0) return document;
  const { parent, token } = locate(document, tokens, where);
  if (Array.isArray(parent)) return parent[arrayIndex(token, parent.length, false, where)] ?? null;
  if (!Object.hasOwn(parent, token)) throw unprocessable(`${where}: the path does not exist (no "${token}")`);
  return parent[token] ?? null;
}

function removeAt(document: JsonValue, tokens: string[], where: string): JsonValue {
  if (tokens.length === 0) throw unprocessable(`${where}: cannot remove the whole document`);
  const { parent, token } = locate(document, tokens, where);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(token, parent.length, false, where), 1)[0] ?? null;
  if (!Object.hasOwn(parent, token)) throw unprocessable(`${where}: the path does not exist (no "${token}")`);
  const value = parent[token] ?? null;
  delete parent[token];
  return value;
}

function addAt(document: JsonValue, tokens: string[], value: JsonValue, where: string, replace: boolean): JsonValue {
  if (tokens.length === 0) return value;
  const { parent, token } = locate(document, tokens, where);
  if (Array.isArray(parent)) {
    const index = arrayIndex(token, parent.length, !replace, where);
    if (replace) parent[index] = value;
    else parent.splice(index, 0, value);
  } else {
    if (replace && !Object.hasOwn(parent, token)) throw unprocessable(`${where}: the path does not exist (no "${token}")`);
    parent[token] = value;
  }
  return document;
}

/** Applies an RFC 6902 patch; a failing operation (or `test`) fails the whole patch with 422. */
export function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('a json patch must be a JSON array of operations');
  let document = cloneJson(target) as JsonValue;
  patch.forEach((operation, index) => {
    const where = `json patch operation ${index}`;
    if (!isJsonObject(operation) || typeof operation.op !== 'string' || typeof operation.path !== 'string') {
      throw badRequest(`${where}: expected an object with "op" and "path" strings`);
    }
    const tokens = pointerTokens(operation.path, index);
    const value = operation.value;
    switch (operation.op) {
      case 'add':
      case 'replace':
        if (value === undefined) throw badRequest(`${where} (${operation.op}): "value" is missing`);
        document = addAt(document, tokens, cloneJson(value), `${where} (${operation.op} ${operation.path})`, operation.op === 'replace');
        break;
      case 'remove':
        removeAt(document, tokens, `${where} (remove ${operation.path})`);
        break;
      case 'move':
      case 'copy': {
        if (typeof operation.from !== 'string') throw badRequest(`${where} (${operation.op}): "from" is missing`);
        const fromTokens = pointerTokens(operation.from, index);
        const moved =
          operation.op === 'move'
            ? removeAt(document, fromTokens, `${where} (move from ${operation.from})`)
            : cloneJson(valueAt(document, fromTokens, `${where} (copy from ${operation.from})`));
        document = addAt(document, tokens, moved, `${where} (${operation.op} to ${operation.path})`, false);
        break;
      }
      case 'test':
        if (!jsonEqual(valueAt(document, tokens, `${where} (test ${operation.path})`), value)) {
          throw unprocessable(`${where}: test failed: the value at ${operation.path} is not ${JSON.stringify(value)}`);
        }
        break;
      default:
        throw badRequest(`${where}: unknown op "${operation.op}": expected add, remove, replace, move, copy or test`);
    }
  });
  return document;
}

/** How a list field of a built-in kind merges: by a key field, as a set of primitives, or replaced (atomic). */
type ListStrategy = { mergeKey: string } | 'primitiveSet' | 'atomic';

/**
 * patchMergeKey of the list fields kubectl patches, from the `patchStrategy:"merge"` tags of
 * k8s.io/api. The key is the field's path without list indices, so `spec.ports` of a Service and
 * `…containers.ports` of a pod template are told apart.
 */
function listStrategy(path: readonly string[]): ListStrategy {
  const field = path[path.length - 1] ?? '';
  const parent = path[path.length - 2] ?? '';
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'schedulingGates':
      return { mergeKey: 'name' };
    case 'volumeMounts':
      return { mergeKey: 'mountPath' };
    case 'volumeDevices':
      return { mergeKey: 'devicePath' };
    case 'hostAliases':
      return { mergeKey: 'ip' };
    case 'topologySpreadConstraints':
      return { mergeKey: 'topologyKey' };
    case 'ownerReferences':
      return { mergeKey: 'uid' };
    case 'conditions':
      return parent === 'status' ? { mergeKey: 'type' } : 'atomic';
    case 'finalizers':
      return parent === 'metadata' ? 'primitiveSet' : 'atomic';
    case 'ports':
      if (parent === 'containers' || parent === 'initContainers' || parent === 'ephemeralContainers') return { mergeKey: 'containerPort' };
      if (parent === 'spec' && path.length === 2) return { mergeKey: 'port' };
      return 'atomic';
    default:
      return 'atomic';
  }
}

function withoutDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDirectives);
  if (!isJsonObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, entry] of Object.entries(value)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/') || key.startsWith('$deleteFromPrimitiveList/')) continue;
    result[key] = withoutDirectives(entry) as JsonValue;
  }
  return result;
}

function orderByElementOrder(items: JsonValue[], order: unknown, mergeKey: string | undefined): JsonValue[] {
  if (!Array.isArray(order)) return items;
  const keyOf = (item: unknown) => (mergeKey && isJsonObject(item) ? JSON.stringify(item[mergeKey]) : JSON.stringify(item));
  const rank = new Map(order.map((item, index) => [keyOf(item), index]));
  const indexed = items.map((item, index) => ({ item, index, rank: rank.get(keyOf(item)) }));
  return indexed
    .sort((a, b) => {
      if (a.rank !== undefined && b.rank !== undefined) return a.rank - b.rank;
      if (a.rank !== undefined) return -1;
      if (b.rank !== undefined) return 1;
      return a.index - b.index;
    })
    .map(({ item }) => item);
}

function mergeList(original: unknown, patch: JsonValue[], path: readonly string[]): JsonValue[] {
  const strategy = listStrategy(path);
  const current = Array.isArray(original) ? cloneJson(original) : [];
  if (strategy === 'atomic') return withoutDirectives(patch) as JsonValue[];
  if (strategy === 'primitiveSet') {
    const result = [...current];
    for (const item of patch) if (!result.some((existing) => jsonEqual(existing, item))) result.push(item);
    return result;
  }
  const { mergeKey } = strategy;
  if (patch.some((item) => isJsonObject(item) && item.$patch === 'replace')) {
    return withoutDirectives(patch.filter((item) => !(isJsonObject(item) && item.$patch === 'replace'))) as JsonValue[];
  }
  let result = current;
  for (const item of patch) {
    if (!isJsonObject(item)) throw badRequest(`strategic merge patch: ${path.join('.')} holds objects merged by "${mergeKey}", got ${JSON.stringify(item)}`);
    const key = item[mergeKey];
    const index = result.findIndex((existing) => isJsonObject(existing) && jsonEqual(existing[mergeKey], key));
    if (item.$patch === 'delete') {
      if (index !== -1) result = result.filter((_, position) => position !== index);
    } else if (index === -1) result.push(strategicMerge(undefined, item, path) as JsonValue);
    else result[index] = strategicMerge(result[index], item, path) as JsonValue;
  }
  return result;
}

function strategicMerge(original: unknown, patch: unknown, path: readonly string[]): unknown {
  if (!isJsonObject(patch)) return cloneJson(patch);
  if (patch.$patch === 'replace') return withoutDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  const result: JsonObject = isJsonObject(original) ? cloneJson(original) : {};
  const orders = new Map<string, unknown>();
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      orders.set(key.slice('$setElementOrder/'.length), value);
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const list = result[field];
      if (Array.isArray(list) && Array.isArray(value)) result[field] = list.filter((item) => !value.some((removed) => jsonEqual(removed, item)));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const childPath = [...path, key];
    if (Array.isArray(value)) result[key] = mergeList(result[key], value, childPath);
    else {
      const merged = strategicMerge(result[key], value, childPath);
      if (merged === undefined) delete result[key];
      else result[key] = merged as JsonValue;
    }
  }
  for (const [field, order] of orders) {
    const list = result[field];
    if (!Array.isArray(list)) continue;
    const strategy = listStrategy([...path, field]);
    result[field] = orderByElementOrder(list, order, typeof strategy === 'object' ? strategy.mergeKey : undefined);
  }
  if (Array.isArray(patch.$retainKeys)) {
    const retained = new Set(patch.$retainKeys.map(String));
    for (const key of Object.keys(result)) if (!retained.has(key)) delete result[key];
  }
  return result;
}

/** Applies a strategic merge patch to an object of a built-in kind. */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
  return strategicMerge(target, patch, []);
}

export { listStrategy };
