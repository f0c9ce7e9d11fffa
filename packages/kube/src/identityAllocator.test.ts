import { afterEach, describe, expect, it, vi } from 'vitest';

import { createIdentityAllocator, SECURITY_LABELS_DIGEST_LABEL } from './identityAllocator.ts';
import { createCiliumCrds, startTestApiServer, type TestApiServer } from './labApiServer.fixture.ts';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(): Promise<TestApiServer> {
  const started = await startTestApiServer();
  createCiliumCrds(started.store);
  cleanups.push(() => started.close());
  return started;
}

async function allocator(api: TestApiServer) {
  const created = createIdentityAllocator({ kubeConfig: await api.kubeConfig(), backoff: { initialMs: 5 }, onError: () => {} });
  cleanups.push(() => created.close());
  await created.synced;
  return created;
}

function identityObjects(api: TestApiServer) {
  return api.store.list(api.resource('cilium.io', 'v2', 'ciliumidentities'), undefined).items;
}

describe('createIdentityAllocator', () => {
  it('creates a CiliumIdentity named by the number, from 256 up, with the labels in security-labels', async () => {
    const api = await server();
    const identities = await allocator(api);
    const web = ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=default'];
    expect(await identities.identityFor(web)).toBe(256);
    expect(await identities.identityFor(['k8s:app=db', 'k8s:io.kubernetes.pod.namespace=default'])).toBe(257);
    // The same set in another order is the same identity.
    expect(await identities.identityFor([...web].reverse())).toBe(256);
    const stored = identityObjects(api).find((object) => object.metadata.name === '256');
    expect(stored?.['security-labels']).toEqual({ 'k8s:app': 'web', 'k8s:io.kubernetes.pod.namespace': 'default' });
    expect(stored?.metadata.labels?.['io.kubernetes.pod.namespace']).toBe('default');
    expect(stored?.metadata.labels?.[SECURITY_LABELS_DIGEST_LABEL]).toMatch(/^[0-9a-f]{40}$/);
    expect(identityObjects(api)).toHaveLength(2);
    await vi.waitFor(() => expect(identities.labelsOf(256)).toEqual(web));
    await vi.waitFor(() => expect(identities.list().map((record) => record.identity)).toEqual([256, 257]));
  });

  it('two allocators racing for the same label sets agree on one number each, and the server holds one identity per set', async () => {
    const api = await server();
    const [first, second] = await Promise.all([allocator(api), allocator(api)]);
    if (!first || !second) throw new Error('no allocators');
    const labelSets = Array.from({ length: 12 }, (_, index) => [`k8s:app=app-${index}`, 'k8s:io.kubernetes.pod.namespace=race']);
    const answers = await Promise.all(labelSets.flatMap((labels, index) => (index % 2 === 0 ? [first.identityFor(labels), second.identityFor(labels)] : [second.identityFor(labels), first.identityFor(labels)])));
    const pairs = labelSets.map((_, index) => [answers[2 * index], answers[2 * index + 1]]);
    for (const [one, other] of pairs) expect(one).toBe(other);
    const numbers = pairs.map(([one]) => one);
    expect(new Set(numbers).size).toBe(labelSets.length);
    expect(identityObjects(api)).toHaveLength(labelSets.length);
    // The race was real: creates collided on the server and the losers adopted the winner's number.
    expect(api.requests.conflicts).toBeGreaterThan(0);
  });

  it('skips a number another label set holds, even one its cache has not seen yet', async () => {
    const api = await server();
    const [first, second] = await Promise.all([allocator(api), allocator(api)]);
    if (!first || !second) throw new Error('no allocators');
    expect(await first.identityFor(['k8s:app=one'])).toBe(256);
    expect(await second.identityFor(['k8s:app=two'])).toBe(257);
    expect(await second.identityFor(['k8s:app=one'])).toBe(256);
  });

  it('reuses an identity that exists on the server for the label set even when a lower number is free', async () => {
    const api = await server();
    const identities = await allocator(api);
    expect(await identities.identityFor(['k8s:app=first'])).toBe(256);
    expect(await identities.identityFor(['k8s:app=kept'])).toBe(257);
    api.store.delete(api.resource('cilium.io', 'v2', 'ciliumidentities'), '', '256');
    const fresh = await allocator(api);
    expect(await fresh.identityFor(['k8s:app=kept'])).toBe(257);
    expect(await fresh.identityFor(['k8s:app=new'])).toBe(256);
  });
});
