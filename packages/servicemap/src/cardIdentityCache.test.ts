import { describe, expect, it } from 'vitest';
import { cardIdentityOf } from './cardIdentity.ts';
import { CardIdentityCache } from './cardIdentityCache.ts';
import { pod, world } from './testFlows.ts';

describe('CardIdentityCache', () => {
  it('gives the same entry for an endpoint seen again, with the identity cardIdentityOf gives', () => {
    const cache = new CardIdentityCache<string>();
    const first = cache.lookup(pod('default', 'echo-a', 300, ['k8s:app=echo']), undefined);
    const again = cache.lookup(pod('default', 'echo-a', 300, ['k8s:app=echo']), undefined);
    expect(again).toBe(first);
    expect(first?.identity).toEqual(cardIdentityOf(pod('default', 'echo-a', 300, ['k8s:app=echo']), undefined));
  });

  it('makes a new entry when a field the card depends on changed', () => {
    const cache = new CardIdentityCache<string>();
    const before = cache.lookup(pod('default', 'echo-a', 300, ['k8s:app=echo']), undefined);
    const relabelled = cache.lookup(pod('default', 'echo-a', 300, ['k8s:app=echo-v2']), undefined);
    expect(relabelled).not.toBe(before);
    expect(relabelled?.identity.title).toBe('echo-v2');
    const moved = cache.lookup({ ...pod('default', 'echo-a', 300, ['k8s:app=echo-v2']), workloads: [{ name: 'echo-b', kind: 'StatefulSet' }] }, undefined);
    expect(moved?.identity.workload).toEqual({ name: 'echo-b', kind: 'StatefulSet' });
  });

  it('keys endpoints without a pod by identity, and tells world names apart', () => {
    const cache = new CardIdentityCache<string>();
    expect(cache.lookup(world, ['one.one.one.one.'])?.identity.id).toBe('world:one.one.one.one');
    expect(cache.lookup(world, ['www.google.com'])?.identity.id).toBe('world:www.google.com');
    expect(cache.lookup(world, undefined)?.identity.id).toBe('world');
  });

  it('leaves endpoints with neither pod nor identity to the caller', () => {
    const cache = new CardIdentityCache<string>();
    expect(cache.lookup(undefined, undefined)).toBeUndefined();
    expect(cache.lookup({ namespace: 'default' }, undefined)).toBeUndefined();
  });

  it('knows a frozen endpoint object by identity, and it keeps its own identity after its pod changed', () => {
    const cache = new CardIdentityCache<string>();
    const before = Object.freeze(pod('default', 'echo-a', 300, ['k8s:app=echo']));
    const first = cache.lookup(before, undefined);
    expect(cache.lookup(before, undefined)).toBe(first);
    const relabelled = cache.lookup(Object.freeze(pod('default', 'echo-a', 300, ['k8s:app=echo-v2'])), undefined);
    expect(relabelled?.identity.title).toBe('echo-v2');
    expect(cache.lookup(before, undefined)).toBe(first);
    expect(first?.identity.title).toBe('echo');
    // A world endpoint object is shared by flows with different DNS names: each name still gets its card.
    const frozenWorld = Object.freeze({ ...world });
    expect(cache.lookup(frozenWorld, ['one.one.one.one.'])?.identity.id).toBe('world:one.one.one.one');
    expect(cache.lookup(frozenWorld, ['www.google.com'])?.identity.id).toBe('world:www.google.com');
  });
});
