import { describe, expect, it } from 'vitest';
import { nameSuffix, podNetnsName, podTemplateHash } from './podNames.ts';

describe('pod names', () => {
  it('makes a 10-hex template hash that depends on the template', () => {
    expect(podTemplateHash({ a: 1 })).toMatch(/^[0-9a-f]{10}$/);
    expect(podTemplateHash({ a: 1 })).not.toBe(podTemplateHash({ a: 2 }));
  });

  it('makes 5-character suffixes from the Kubernetes alphabet', () => {
    expect(nameSuffix(() => 0)).toBe('bbbbb');
    expect(nameSuffix()).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('keeps short pod netns names readable and shortens long ones with a hash', () => {
    expect(podNetnsName('default', 'echo-a-0123456789-abcde')).toBe('tycho-pod-default-echo-a-0123456789-abcde');
    const long = podNetnsName('default', 'pod-to-external-fqdn-allow-google-cnp-0123456789-abcde');
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^tycho-pod-default-pod-to-external-fqdn-allow-google-cnp-[0-9a-f]{8}$/);
    expect(long).not.toBe(podNetnsName('default', 'pod-to-external-fqdn-allow-google-cnp-0123456789-abcdf'));
  });
});
