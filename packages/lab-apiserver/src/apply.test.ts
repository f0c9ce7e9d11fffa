import { describe, expect, it } from 'vitest';

import { serverSideApply } from './apply.ts';
import type { KubeObject } from './kubeObject.ts';
import { StatusError } from './status.ts';

const now = new Date('2025-01-01T00:00:00Z');

function configMap(data: Record<string, string>, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', ...(labels ? { labels } : {}) }, data };
}

function apply(live: KubeObject | undefined, applied: KubeObject, fieldManager: string, force = false): KubeObject {
  return serverSideApply({ live, applied, fieldManager, force, customResource: false, apiVersion: 'v1', now });
}

describe('serverSideApply', () => {
  it('creates from the applied configuration and records the manager\'s fields in managedFields', () => {
    const created = apply(undefined, configMap({ a: '1' }, { app: 'x' }), 'alice');
    expect(created.metadata.managedFields).toEqual([
      { manager: 'alice', operation: 'Apply', apiVersion: 'v1', time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } } },
    ]);
  });

  it('removes a field the same manager applied before and leaves out now, keeping fields others own', () => {
    const first = apply(undefined, configMap({ a: '1', b: '2' }), 'alice');
    const withBob = apply(first, configMap({ c: '3' }), 'bob');
    const second = apply(withBob, configMap({ a: '1' }), 'alice');
    expect(second.data).toEqual({ a: '1', c: '3' });
  });

  it('reports a conflict with another Apply manager on a different value, and takes the field over with force', () => {
    const first = apply(undefined, configMap({ a: '1' }), 'alice');
    expect(() => apply(first, configMap({ a: '2' }), 'bob')).toThrow(StatusError);
    try {
      apply(first, configMap({ a: '2' }), 'bob');
    } catch (error) {
      expect((error as StatusError).status).toMatchObject({ code: 409, reason: 'Conflict', details: { causes: [{ reason: 'FieldManagerConflict', field: '.data.a' }] } });
    }
    const forced = apply(first, configMap({ a: '2' }), 'bob', true);
    expect(forced.data).toEqual({ a: '2' });
    const alice = forced.metadata.managedFields?.find((entry) => entry.manager === 'alice');
    expect(alice?.fieldsV1).toEqual({});
  });

  it('merges keyed lists by their key, so two managers can own different containers', () => {
    const pod = (containers: { name: string; image: string }[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers } });
    const first = apply(undefined, pod([{ name: 'web', image: 'web:1' }]), 'alice');
    const second = apply(first, pod([{ name: 'side', image: 'side:1' }]), 'bob');
    expect((second.spec as { containers: unknown[] }).containers).toEqual([{ name: 'web', image: 'web:1' }, { name: 'side', image: 'side:1' }]);
    const third = apply(second, pod([]), 'bob');
    expect((third.spec as { containers: unknown[] }).containers).toEqual([{ name: 'web', image: 'web:1' }]);
  });
});
