import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryKubeStore } from './kubeStore.ts';
import { watchKubeStore } from './watchStore.ts';

let root: string;
let store: DirectoryKubeStore;
let changes = 0;
let watcher: { close(): void } | undefined;

async function changeSeen(write: () => void): Promise<void> {
  const before = changes;
  write();
  for (let i = 0; i < 200 && changes === before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(changes).toBeGreaterThan(before);
}

const pod = (namespace: string, name: string, ip: string) => ({ metadata: { name, namespace }, status: { podIP: ip } });

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tycho-kube-watch-'));
  store = new DirectoryKubeStore(root);
  store.put('pods', pod('default', 'echo-a', '10.244.0.5'));
  changes = 0;
  watcher = watchKubeStore(root, () => changes++);
});

afterEach(() => {
  watcher?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('watchKubeStore', () => {
  it('sees every replacement of the same object, not only the first', async () => {
    for (const ip of ['10.244.0.6', '10.244.0.7', '10.244.0.8']) await changeSeen(() => store.put('pods', pod('default', 'echo-a', ip)));
  });

  it('sees objects in a namespace and a kind that appear later, and deletions', async () => {
    await changeSeen(() => store.put('pods', pod('kube-system', 'coredns', '10.244.0.2')));
    await changeSeen(() => store.put('pods', pod('kube-system', 'coredns', '10.244.0.3')));
    await changeSeen(() => store.put('services', { metadata: { name: 'echo-a', namespace: 'default' } }));
    await changeSeen(() => store.put('services', { metadata: { name: 'echo-a', namespace: 'default' }, spec: { clusterIP: '10.96.0.20' } }));
    await changeSeen(() => store.delete('pods', 'default', 'echo-a'));
  });

  it('sees repeated policy writes', async () => {
    const policy = (port: string) => ({
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name: 'p', namespace: 'default' },
      spec: { endpointSelector: {}, egress: [{ toPorts: [{ ports: [{ port, protocol: 'TCP' }] }] }] },
    });
    for (const port of ['80', '81', '82']) await changeSeen(() => store.policies.apply([{ objects: [policy(port)] }]));
  });

  it('does not throw for a root that does not exist', () => {
    expect(() => watchKubeStore(join(root, 'missing'), () => {}).close()).not.toThrow();
  });
});
