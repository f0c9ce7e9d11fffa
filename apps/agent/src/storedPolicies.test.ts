import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectoryKubeStore } from '@tycho/kube';
import { createStoredPolicyReader } from './storedPolicies.ts';

const policy = (name: string, port: string) => ({
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name, namespace: 'default' },
  spec: { endpointSelector: {}, egress: [{ toEndpoints: [{}], toPorts: [{ ports: [{ port, protocol: 'TCP' }] }] }] },
});

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('createStoredPolicyReader', () => {
  it('does not read the document again while its file is unchanged, and parses again only the objects that changed', () => {
    dir = mkdtempSync(join(tmpdir(), 'tycho-stored-policies-'));
    const store = new DirectoryKubeStore(dir);
    store.policies.apply([{ objects: [policy('a', '80'), policy('b', '81')] }]);
    let reads = 0;
    const collection = { file: store.policies.file, read: () => (reads++, store.policies.read()) };
    const read = createStoredPolicyReader(collection);

    const first = read();
    expect(first.policies.map((p) => p.ref.name)).toEqual(['a', 'b']);
    expect(read()).toBe(first);
    expect(reads).toBe(1);

    store.policies.apply([{ objects: [policy('b', '82')] }]);
    const second = read();
    expect(reads).toBe(2);
    expect(second.revision).toBe(first.revision + 1);
    expect(second.policies[0]).toBe(first.policies[0]);
    expect(second.policies[1]).not.toBe(first.policies[1]);
  });
});
