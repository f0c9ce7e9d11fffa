import { describe, expect, it } from 'vitest';
import { matchesLabelSelector, parseLabelSelector } from './labelSelector.ts';

const labels = ['k8s:app=echo', 'k8s:io.kubernetes.pod.namespace=default', 'container:tier=web', 'reserved:host'];
const matches = (selector: string) => matchesLabelSelector(parseLabelSelector(selector), labels);

describe('label selectors', () => {
  it('matches key=value and key==value', () => {
    expect(matches('app=echo')).toBe(true);
    expect(matches('k8s:app==echo')).toBe(true);
    expect(matches('app=other')).toBe(false);
  });

  it('treats key!=value as true when the key is missing', () => {
    expect(matches('app!=other')).toBe(true);
    expect(matches('missing!=x')).toBe(true);
    expect(matches('app!=echo')).toBe(false);
  });

  it('matches existence and absence, label values of sourceless reserved labels included', () => {
    expect(matches('reserved:host')).toBe(true);
    expect(matches('!reserved:world')).toBe(true);
    expect(matches('!app')).toBe(false);
  });

  it('matches in and notin over sets, with commas inside parentheses', () => {
    expect(matches('tier in (db, web)')).toBe(true);
    expect(matches('tier notin (db,web)')).toBe(false);
    expect(matches('missing notin (x)')).toBe(true);
  });

  it('ANDs comma-separated requirements', () => {
    expect(matches('app=echo, io.kubernetes.pod.namespace=default')).toBe(true);
    expect(matches('app=echo,tier=db')).toBe(false);
  });

  it('limits a key with a source to that source', () => {
    expect(matches('container:tier=web')).toBe(true);
    expect(matches('k8s:tier=web')).toBe(false);
  });

  it('accepts an empty value, as Kubernetes does', () => {
    expect(matchesLabelSelector(parseLabelSelector('app='), ['k8s:app='])).toBe(true);
  });

  it.each(['', 'a b', 'app in ()', 'app in (a,', '=x', 'app=x,'])('refuses %j', (selector) => {
    expect(() => parseLabelSelector(selector)).toThrow();
  });
});
