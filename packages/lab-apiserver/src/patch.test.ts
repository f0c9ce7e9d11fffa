import { describe, expect, it } from 'vitest';

import { jsonMergePatch, jsonPatch, strategicMergePatch } from './patch.ts';
import { StatusError } from './status.ts';

const deployment = {
  metadata: { name: 'd', finalizers: ['a'] },
  spec: {
    template: {
      spec: {
        containers: [
          { name: 'web', image: 'web:1', ports: [{ containerPort: 80 }, { containerPort: 443 }], env: [{ name: 'A', value: '1' }] },
          { name: 'side', image: 'side:1' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    },
  },
};

describe('jsonMergePatch (RFC 7386)', () => {
  it('merges objects, deletes keys set to null and replaces arrays whole', () => {
    expect(jsonMergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, { b: { c: null, x: 1 }, e: [3] })).toEqual({ a: 1, b: { d: 3, x: 1 }, e: [3] });
  });
});

describe('jsonPatch (RFC 6902)', () => {
  it('applies add, remove, replace, move, copy and test, with ~1 escapes and the - index', () => {
    const result = jsonPatch({ metadata: { labels: { 'a/b': 'x' } }, list: [1, 2] }, [
      { op: 'test', path: '/metadata/labels/a~1b', value: 'x' },
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'replace', path: '/list/0', value: 0 },
      { op: 'remove', path: '/list/1' },
      { op: 'copy', from: '/list', path: '/copied' },
      { op: 'move', from: '/metadata/labels/a~1b', path: '/metadata/labels/c' },
    ]);
    expect(result).toEqual({ metadata: { labels: { c: 'x' } }, list: [0, 3], copied: [0, 3] });
  });

  it('fails the whole patch with 422 when a test fails or a path is missing', () => {
    expect(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(StatusError);
    expect(() => jsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 2 }])).toThrow(/does not exist/);
    expect(() => jsonPatch({ a: 1 }, { op: 'add' })).toThrow(/JSON array/);
  });
});

describe('strategicMergePatch', () => {
  it('merges containers by name, their ports by containerPort and env by name', () => {
    const result = strategicMergePatch(deployment, {
      spec: { template: { spec: { containers: [{ name: 'web', image: 'web:2', ports: [{ containerPort: 8080 }], env: [{ name: 'B', value: '2' }] }] } } },
    }) as typeof deployment;
    const [web, side] = result.spec.template.spec.containers;
    expect(web).toEqual({ name: 'web', image: 'web:2', ports: [{ containerPort: 80 }, { containerPort: 443 }, { containerPort: 8080 }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] });
    expect(side).toEqual({ name: 'side', image: 'side:1' });
  });

  it('removes a list element with $patch: delete and reorders by $setElementOrder', () => {
    const result = strategicMergePatch(deployment, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'side' }, { name: 'web' }],
            containers: [{ name: 'web', ports: [{ containerPort: 80, $patch: 'delete' }] }],
            volumes: [{ name: 'data', $patch: 'delete' }],
          },
        },
      },
    }) as typeof deployment;
    expect(result.spec.template.spec.containers.map((container) => container.name)).toEqual(['side', 'web']);
    expect(result.spec.template.spec.containers[1]?.ports).toEqual([{ containerPort: 443 }]);
    expect(result.spec.template.spec.volumes).toEqual([]);
  });

  it('merges metadata.finalizers as a set, replaces atomic lists and honours $patch: replace and $retainKeys', () => {
    const result = strategicMergePatch(
      { metadata: { finalizers: ['a'] }, spec: { args: ['x', 'y'], strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
      { metadata: { finalizers: ['b', 'a'] }, spec: { args: ['z'], strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    );
    expect(result).toEqual({ metadata: { finalizers: ['a', 'b'] }, spec: { args: ['z'], strategy: { type: 'Recreate' } } });
    expect(strategicMergePatch({ spec: { a: 1, b: 2 } }, { spec: { $patch: 'replace', c: 3 } })).toEqual({ spec: { c: 3 } });
  });

  it('merges a Service\'s spec.ports by port', () => {
    const result = strategicMergePatch({ spec: { ports: [{ port: 80, name: 'http' }] } }, { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, name: 'https' }] } });
    expect(result).toEqual({ spec: { ports: [{ port: 80, name: 'http', targetPort: 8080 }, { port: 443, name: 'https' }] } });
  });
});
