import { describe, expect, it } from 'vitest';
import type { V1Affinity } from '@kubernetes/client-node';
import { placePods, type PodToPlace } from './placement.ts';

const NODES = ['node-1', 'node-2'];

const toEchoB = (kind: 'podAffinity' | 'podAntiAffinity'): V1Affinity => ({
  [kind]: {
    requiredDuringSchedulingIgnoredDuringExecution: [
      {
        labelSelector: { matchExpressions: [{ key: 'name', operator: 'In', values: ['echo-b'] }] },
        topologyKey: 'kubernetes.io/hostname',
      },
    ],
  },
});

function pod(name: string, extra: Partial<PodToPlace> & { affinity?: V1Affinity; nodeName?: string } = {}): PodToPlace {
  return {
    namespace: 'default',
    name,
    labels: { name },
    owner: `Deployment/default/${name}`,
    spec: { affinity: extra.affinity, nodeName: extra.nodeName },
    ...(extra.labels ? { labels: extra.labels } : {}),
    ...(extra.owner ? { owner: extra.owner } : {}),
  };
}

describe('placePods', () => {
  it('puts a pod with podAffinity to echo-b on echo-b’s node even when listed first', () => {
    const { nodeOf } = placePods([pod('pod-to-b-intra-node', { affinity: toEchoB('podAffinity') }), pod('filler'), pod('echo-b')], NODES);
    expect(nodeOf.get('default/pod-to-b-intra-node')).toBe(nodeOf.get('default/echo-b'));
  });

  it('puts a pod with podAntiAffinity to echo-b on the other node', () => {
    const { nodeOf } = placePods([pod('pod-to-b-multi-node', { affinity: toEchoB('podAntiAffinity') }), pod('echo-b')], NODES);
    expect(nodeOf.get('default/pod-to-b-multi-node')).not.toBe(nodeOf.get('default/echo-b'));
    expect(nodeOf.size).toBe(2);
  });

  it('honours spec.nodeName', () => {
    const { nodeOf } = placePods([pod('a', { nodeName: 'node-2' }), pod('b', { nodeName: 'node-2' })], NODES);
    expect([nodeOf.get('default/a'), nodeOf.get('default/b')]).toEqual(['node-2', 'node-2']);
  });

  it('spreads replicas of one workload over the nodes', () => {
    const replicas = [pod('dns-1', { owner: 'dns' }), pod('dns-2', { owner: 'dns' })];
    const { nodeOf } = placePods([pod('x'), ...replicas], NODES);
    expect(new Set([nodeOf.get('default/dns-1'), nodeOf.get('default/dns-2')]).size).toBe(2);
  });

  it('leaves a pod pending with a reason when no node fits', () => {
    const anti = toEchoB('podAntiAffinity');
    const { pending, nodeOf } = placePods([pod('echo-b', { nodeName: 'node-1' }), pod('client', { affinity: anti, nodeName: 'node-1' })], NODES);
    expect(nodeOf.has('default/client')).toBe(false);
    expect(pending[0]?.reason).toMatch(/node-1: podAntiAffinity/);
  });

  it('respects the anti-affinity of pods already placed', () => {
    const { nodeOf } = placePods([pod('client', { affinity: toEchoB('podAntiAffinity'), nodeName: 'node-1' }), pod('echo-b')], NODES);
    expect(nodeOf.get('default/echo-b')).toBe('node-2');
  });

  it('places a self-affine group’s first pod anywhere', () => {
    const group: V1Affinity = {
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'g' } }, topologyKey: 'kubernetes.io/hostname' }],
      },
    };
    const pods = [pod('g-1', { labels: { app: 'g' }, affinity: group, owner: 'g' }), pod('g-2', { labels: { app: 'g' }, affinity: group, owner: 'g' })];
    const { nodeOf, pending } = placePods(pods, NODES);
    expect(pending).toEqual([]);
    expect(nodeOf.get('default/g-1')).toBe(nodeOf.get('default/g-2'));
  });
});
