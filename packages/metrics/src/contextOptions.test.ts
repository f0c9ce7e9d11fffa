import { describe, expect, it } from 'vitest';
import { contextLabelNames, contextLabelValues, parseContextOptions, shortPodName } from './contextOptions.ts';
import { testFlow } from './flows.fixture.ts';

const options = (entries: Record<string, string>) => parseContextOptions(new Map(Object.entries(entries)));

describe('shortPodName', () => {
  it('strips the ReplicaSet and pod hashes of a Deployment pod', () => {
    expect(shortPodName('echo-a-7c9b8d6f4-abcde')).toBe('echo-a');
  });
  it('strips the one suffix of a DaemonSet pod', () => {
    expect(shortPodName('cilium-x7k2p')).toBe('cilium');
  });
  it('always strips two parts when there are more than two, as Hubble does', () => {
    expect(shortPodName('tycho-agent-x7k2p')).toBe('tycho');
  });
  it('keeps at most two parts off and at least the first one', () => {
    expect(shortPodName('pod-to-b-multi-node-headless-5f6b9c8d7-q2w3e')).toBe('pod-to-b-multi-node-headless');
    expect(shortPodName('echo')).toBe('echo');
  });
});

describe('parseContextOptions', () => {
  it('matches keys and identifiers case-insensitively', () => {
    expect(options({ SourceContext: 'POD|ip' }).source).toEqual(['pod', 'ip']);
  });
  it('orders labelsContext labels as Hubble does', () => {
    expect(options({ labelsContext: 'traffic_direction,source_pod,destination_ip' }).labels).toEqual([
      'source_pod',
      'destination_ip',
      'traffic_direction',
    ]);
  });
  it('names the unknown identifier', () => {
    expect(() => options({ destinationContext: 'pod|nodes' })).toThrow(new Error("unknown context 'nodes'"));
  });
});

describe('contextLabelValues', () => {
  it('adds labels, then source, then destination', () => {
    const context = options({ labelsContext: 'source_namespace,traffic_direction', sourceContext: 'pod', destinationContext: 'pod-short' });
    expect(contextLabelNames(context)).toEqual(['source_namespace', 'traffic_direction', 'source', 'destination']);
    expect(contextLabelValues(context, testFlow())).toEqual(['default', 'egress', 'default/client-6d8f9c7b5-x2x7k', 'default/echo-a']);
  });

  it('takes the first non-empty identifier', () => {
    const context = options({ sourceContext: 'dns|pod-name|ip', destinationContext: 'dns|ip' });
    expect(contextLabelValues(context, testFlow({ destination_names: ['one.one.one.one'] }))).toEqual([
      'client-6d8f9c7b5-x2x7k',
      'one.one.one.one',
    ]);
    expect(contextLabelValues(context, testFlow({ source: undefined }))).toEqual(['10.244.0.10', '10.244.1.20']);
  });

  it('resolves identity, namespace, workload-name, app and reserved-identity', () => {
    const flow = testFlow({ destination: { identity: 2, labels: ['reserved:world'] } });
    const value = (id: string, isSource: boolean) =>
      contextLabelValues(options(isSource ? { sourceContext: id } : { destinationContext: id }), flow)[0];
    expect(value('identity', true)).toBe('k8s:app=client,k8s:io.kubernetes.pod.namespace=default');
    expect(value('namespace', true)).toBe('default');
    expect(value('workload-name', true)).toBe('client');
    expect(value('app', true)).toBe('client');
    expect(value('reserved-identity', false)).toBe('reserved:world');
    expect(value('pod', false)).toBe('');
  });
});
