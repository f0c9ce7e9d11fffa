import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createObjectStore } from './objectStore.ts';
import { DataDirError } from './persistence.ts';
import { createResourceRegistry } from './resourceRegistry.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-apiserver-store-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string, compactAfterWrites?: number) {
  const registry = createResourceRegistry();
  const store = createObjectStore({ registry, dataDir: dir, ...(compactAfterWrites ? { compactAfterWrites } : {}) });
  const configMaps = registry.find('', 'v1', 'configmaps');
  if (!configMaps) throw new Error('configmaps are not served');
  return { store, configMaps };
}

describe('ObjectStore persistence', () => {
  it('folds the log into a snapshot after compactAfterWrites writes and reads both back', () => {
    const dir = dataDir();
    const first = open(dir, 4);
    for (const name of ['a', 'b', 'c', 'd', 'e']) first.store.create(first.configMaps, 'default', { metadata: { name } });
    const version = first.store.resourceVersion;
    first.store.close();
    expect(existsSync(join(dir, 'snapshot.json'))).toBe(true);
    expect(readFileSync(join(dir, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).length).toBeLessThan(4);
    const second = open(dir, 4);
    expect(second.store.list(second.configMaps, 'default').items.map((item) => item.metadata.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(second.store.resourceVersion).toBe(version);
  });

  it('drops a torn last log line (a write never acknowledged) and appends after it cleanly', () => {
    const dir = dataDir();
    const first = open(dir);
    first.store.create(first.configMaps, 'default', { metadata: { name: 'kept' } });
    first.store.close();
    appendFileSync(join(dir, 'log.jsonl'), '{"resourceVersion":99,"key":"/configmaps|default|torn","obj');
    const second = open(dir);
    expect(second.store.tryGet(second.configMaps, 'default', 'torn')).toBeUndefined();
    second.store.create(second.configMaps, 'default', { metadata: { name: 'after' } });
    second.store.close();
    const third = open(dir);
    expect(third.store.list(third.configMaps, 'default').items.map((item) => item.metadata.name)).toEqual(['after', 'kept']);
  });

  it('refuses to start on a snapshot that is not one, naming the file', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'snapshot.json'), '{"objects": 3}');
    expect(() => open(dir)).toThrow(DataDirError);
    expect(() => open(dir)).toThrow(/snapshot\.json: is not a snapshot/);
  });
});
