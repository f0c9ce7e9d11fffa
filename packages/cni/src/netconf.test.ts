import { describe, expect, it } from 'vitest';
import { cniConfigFor } from './cniConfig.ts';
import { CniError, CniErrorCode } from './cniError.ts';
import { cniVersionForReply, parseNetConf } from './netconf.ts';

const valid = {
  cniVersion: '1.0.0',
  name: 'tycho',
  type: 'tycho-cni',
  mtu: 1500,
  agentSocket: '/run/tycho/node-1/agent.sock',
  ipam: { subnet: '10.244.0.0/24', gateway: '169.254.1.1', dataDir: '/run/tycho/node-1/ipam' },
};

function failureOf(stdin: string): CniError {
  try {
    parseNetConf(stdin);
  } catch (error) {
    if (error instanceof CniError) return error;
    throw error;
  }
  throw new Error('expected parseNetConf to fail');
}

describe('parseNetConf', () => {
  it('accepts the documented configuration', () => {
    expect(parseNetConf(JSON.stringify(valid))).toMatchObject(valid);
  });

  it('defaults mtu to 1500 and the gateway to 169.254.1.1', () => {
    const { mtu: _mtu, ...withoutMtu } = valid;
    const conf = parseNetConf(JSON.stringify({ ...withoutMtu, ipam: { subnet: valid.ipam.subnet, dataDir: valid.ipam.dataDir } }));
    expect(conf.mtu).toBe(1500);
    expect(conf.ipam.gateway).toBe('169.254.1.1');
  });

  it('passes fields added by the runtime through', () => {
    const conf = parseNetConf(JSON.stringify({ ...valid, runtimeConfig: { portMappings: [] }, args: { cni: {} } }));
    expect(conf['runtimeConfig']).toEqual({ portMappings: [] });
  });

  it('accepts the configuration cniConfigFor builds', () => {
    expect(() => parseNetConf(JSON.stringify(cniConfigFor({ name: 'node-2', podCidr: '10.244.1.0/24' })))).not.toThrow();
  });

  it('rejects text that is not JSON with code 6', () => {
    expect(failureOf('{').code).toBe(CniErrorCode.decodingFailure);
  });

  it('rejects a JSON array with code 6', () => {
    expect(failureOf('[]').code).toBe(CniErrorCode.decodingFailure);
  });

  it('rejects an unsupported cniVersion with code 1', () => {
    expect(failureOf(JSON.stringify({ ...valid, cniVersion: '1.1.0' })).code).toBe(CniErrorCode.incompatibleVersion);
  });

  it('rejects a missing cniVersion with code 7 naming the field', () => {
    const { cniVersion: _omitted, ...rest } = valid;
    const failure = failureOf(JSON.stringify(rest));
    expect(failure.code).toBe(CniErrorCode.invalidNetworkConfig);
    expect(failure.details).toContain('cniVersion');
  });

  it('rejects a subnet too small to hold a pod with code 7', () => {
    const failure = failureOf(JSON.stringify({ ...valid, ipam: { ...valid.ipam, subnet: '10.244.0.0/31' } }));
    expect(failure.code).toBe(CniErrorCode.invalidNetworkConfig);
    expect(failure.details).toContain('/30 or shorter');
  });

  it('rejects a relative dataDir with code 7', () => {
    const failure = failureOf(JSON.stringify({ ...valid, ipam: { ...valid.ipam, dataDir: 'ipam' } }));
    expect(failure.details).toContain('ipam.dataDir: expected an absolute path');
  });

  it('rejects a delegated ipam.type with code 2 naming key and value', () => {
    const failure = failureOf(JSON.stringify({ ...valid, ipam: { ...valid.ipam, type: 'host-local' } }));
    expect(failure.code).toBe(CniErrorCode.unsupportedField);
    expect(failure.details).toContain('ipam.type="host-local"');
  });
});

describe('cniVersionForReply', () => {
  it('echoes a supported cniVersion', () => {
    expect(cniVersionForReply('{"cniVersion":"0.4.0"}')).toBe('0.4.0');
  });

  it('falls back to 1.0.0 for unreadable input', () => {
    expect(cniVersionForReply('nope')).toBe('1.0.0');
  });
});
