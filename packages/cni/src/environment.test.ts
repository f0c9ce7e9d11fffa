import { describe, expect, it } from 'vitest';
import { CniError, CniErrorCode } from './cniError.ts';
import { parseEnvironment } from './environment.ts';

const add = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/var/run/netns/tycho-pod-default-echo-a',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=echo-a',
};

function detailsOf(env: Record<string, string>): string {
  try {
    parseEnvironment(env);
  } catch (error) {
    if (error instanceof CniError && error.code === CniErrorCode.invalidEnvironment) return error.details;
    throw error;
  }
  throw new Error('expected parseEnvironment to fail with code 4');
}

describe('parseEnvironment', () => {
  it('reads ADD with the pod namespace and name from CNI_ARGS', () => {
    expect(parseEnvironment(add)).toEqual({
      command: 'ADD',
      containerId: 'abc123',
      netns: '/var/run/netns/tycho-pod-default-echo-a',
      ifname: 'eth0',
      podNamespace: 'default',
      podName: 'echo-a',
    });
  });

  it('reads DEL without CNI_NETNS', () => {
    const { CNI_NETNS: _omitted, ...env } = add;
    expect(parseEnvironment({ ...env, CNI_COMMAND: 'DEL' })).toMatchObject({ command: 'DEL', netns: undefined });
  });

  it('reads VERSION from CNI_COMMAND alone', () => {
    expect(parseEnvironment({ CNI_COMMAND: 'VERSION' })).toEqual({ command: 'VERSION' });
  });

  it('names CNI_COMMAND when it is unknown', () => {
    expect(detailsOf({ ...add, CNI_COMMAND: 'GC' })).toContain('CNI_COMMAND: expected ADD, DEL, CHECK or VERSION, got "GC"');
  });

  it('names CNI_NETNS when ADD lacks it', () => {
    const { CNI_NETNS: _omitted, ...env } = add;
    expect(detailsOf(env)).toContain('CNI_NETNS');
  });

  it('names CNI_IFNAME when it is too long for Linux', () => {
    expect(detailsOf({ ...add, CNI_IFNAME: 'a-very-long-ifname' })).toContain('CNI_IFNAME');
  });

  it('names CNI_CONTAINERID when it starts with a hyphen', () => {
    expect(detailsOf({ ...add, CNI_CONTAINERID: '-abc' })).toContain('CNI_CONTAINERID');
  });

  it('names CNI_ARGS when a pair has no "="', () => {
    expect(detailsOf({ ...add, CNI_ARGS: 'K8S_POD_NAMESPACE=default;oops' })).toContain('CNI_ARGS: expected KEY=VALUE pairs');
  });
});
