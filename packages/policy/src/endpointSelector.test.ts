import { describe, expect, it } from 'vitest';
import { describeSelector, selectorFromK8s, selectorMatches } from './endpointSelector.ts';
import { parseLabel } from './labels.ts';

const labels = (...texts: string[]) => texts.map(parseLabel);
const echo = labels('k8s:name=echo-a', 'k8s:tier=web', 'k8s:io.kubernetes.pod.namespace=default');

describe('selectorMatches', () => {
  it('matches matchLabels without a source against labels of any source', () => {
    expect(selectorMatches(selectorFromK8s({ matchLabels: { name: 'echo-a' } }), echo)).toBe(true);
    expect(selectorMatches(selectorFromK8s({ matchLabels: { 'any:name': 'echo-a' } }), echo)).toBe(true);
    expect(selectorMatches(selectorFromK8s({ matchLabels: { name: 'echo-b' } }), echo)).toBe(false);
  });

  it('matches a source-prefixed key only against labels of that source', () => {
    expect(selectorMatches(selectorFromK8s({ matchLabels: { 'k8s:name': 'echo-a' } }), echo)).toBe(true);
    expect(selectorMatches(selectorFromK8s({ matchLabels: { 'container:name': 'echo-a' } }), echo)).toBe(false);
  });

  it('selects reserved identities by their reserved: label', () => {
    const selector = selectorFromK8s({ matchLabels: { 'reserved:host': '' } });
    expect(selectorMatches(selector, labels('reserved:host'))).toBe(true);
    expect(selectorMatches(selector, labels('reserved:world'))).toBe(false);
  });

  it('requires every requirement (AND of matchLabels and matchExpressions)', () => {
    const selector = selectorFromK8s({ matchLabels: { name: 'echo-a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] });
    expect(selectorMatches(selector, echo)).toBe(false);
  });

  it('implements In, NotIn, Exists and DoesNotExist as Kubernetes does', () => {
    const expr = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', values?: string[]) =>
      selectorFromK8s({ matchExpressions: [{ key: 'tier', operator, values }] });
    expect(selectorMatches(expr('In', ['web', 'db']), echo)).toBe(true);
    expect(selectorMatches(expr('In', ['db']), echo)).toBe(false);
    expect(selectorMatches(expr('NotIn', ['db']), echo)).toBe(true);
    expect(selectorMatches(expr('NotIn', ['web']), echo)).toBe(false);
    expect(selectorMatches(expr('NotIn', ['web']), labels('k8s:name=x')), 'an absent key satisfies NotIn').toBe(true);
    expect(selectorMatches(expr('Exists'), echo)).toBe(true);
    expect(selectorMatches(expr('Exists'), labels('k8s:name=x'))).toBe(false);
    expect(selectorMatches(expr('DoesNotExist'), echo)).toBe(false);
    expect(selectorMatches(expr('DoesNotExist'), labels('k8s:name=x'))).toBe(true);
  });

  it('selects everything when empty', () => {
    expect(selectorMatches(selectorFromK8s({}), labels('reserved:world'))).toBe(true);
  });

  it('describes itself with sources', () => {
    expect(describeSelector(selectorFromK8s({ matchLabels: { 'k8s:app': 'x' }, matchExpressions: [{ key: 't', operator: 'NotIn', values: ['a', 'b'] }] }))).toBe(
      'k8s:app=x, any:t notin (a,b)',
    );
  });
});
