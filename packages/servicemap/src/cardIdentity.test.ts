import { describe, expect, it } from 'vitest';
import { appLabel, cardIdentityOf, parseLabel, shortPodName } from './cardIdentity.ts';

describe('cardIdentityOf', () => {
  it('groups a pod by namespace and workload', () => {
    expect(cardIdentityOf({ namespace: 'default', identity: 300, pod_name: 'echo-a-1', workloads: [{ name: 'echo-a', kind: 'Deployment' }] }, undefined))
      .toEqual({ id: 'default/echo-a', kind: 'workload', namespace: 'default', title: 'echo-a', workload: { name: 'echo-a', kind: 'Deployment' } });
  });

  it('falls back to the short pod name when the workload is unknown', () => {
    expect(cardIdentityOf({ namespace: 'default', identity: 300, pod_name: 'echo-a-6d9c7f8b5-xk2lp' }, undefined).id).toBe('default/echo-a');
  });

  it('names an identity-only endpoint by its identity', () => {
    expect(cardIdentityOf({ namespace: 'default', identity: 4711 }, undefined)).toMatchObject({ id: 'default/identity-4711', title: 'identity-4711' });
  });

  it('recognises reserved identities by number or label', () => {
    expect(cardIdentityOf({ identity: 6 }, undefined)).toEqual({ id: 'remote-node', kind: 'remote-node', title: 'remote-node' });
    expect(cardIdentityOf({ labels: ['reserved:host'] }, undefined).kind).toBe('host');
    expect(cardIdentityOf({ identity: 4 }, undefined)).toEqual({ id: 'reserved:health', kind: 'unknown', title: 'health' });
  });

  it('drops the trailing dot of a DNS name', () => {
    expect(cardIdentityOf({ identity: 2 }, ['one.one.one.one.']).id).toBe('world:one.one.one.one');
  });

  it('makes an unknown card for an endpoint with nothing known', () => {
    expect(cardIdentityOf(undefined, undefined)).toEqual({ id: 'unknown', kind: 'unknown', title: 'unknown' });
  });
});

describe('labels', () => {
  it('parses source, key and value', () => {
    expect(parseLabel('k8s:io.kubernetes.pod.namespace=default')).toEqual({ source: 'k8s', key: 'io.kubernetes.pod.namespace', value: 'default' });
    expect(parseLabel('reserved:world')).toEqual({ source: 'reserved', key: 'world', value: '' });
    expect(parseLabel('app=x')).toEqual({ source: '', key: 'app', value: 'x' });
  });

  it('prefers app over k8s-app over app.kubernetes.io/name', () => {
    expect(appLabel(['k8s:k8s-app=dns', 'k8s:app=web'])).toBe('web');
    expect(appLabel(['k8s:app.kubernetes.io/name=x', 'k8s:k8s-app=dns'])).toBe('dns');
    expect(appLabel(['k8s:name=echo'])).toBeUndefined();
  });

  it('shortens pod names of ReplicaSets and other owners', () => {
    expect(shortPodName('echo-a-6d9c7f8b5-xk2lp')).toBe('echo-a');
    expect(shortPodName('node-exporter-x9k2p')).toBe('node-exporter');
    expect(shortPodName('standalone')).toBe('standalone');
  });
});
