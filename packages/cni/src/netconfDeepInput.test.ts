// Found by cniFuzz.test.ts: a configuration that is a deeply nested JSON array is quoted back in
// the error with JSON.stringify, which overflows the stack, so tycho-cni answered with its
// internal error 999 and a stack trace instead of code 6 (decoding failure).
import { describe, expect, it } from 'vitest';
import { CniError, CniErrorCode } from './cniError.ts';
import { parseNetConf } from './netconf.ts';

describe('parseNetConf on deeply nested input', () => {
  it('refuses a JSON array nested 50,000 levels deep with a decoding-failure CniError', () => {
    const depth = 50_000;
    let failure: unknown;
    try {
      parseNetConf(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(CniError);
    expect((failure as CniError).code).toBe(CniErrorCode.decodingFailure);
  });
});
