import { describe, expect, it } from 'vitest';
import { parseProbeCommand, shellWords } from './probeCommand.ts';

describe('parseProbeCommand', () => {
  it('reads url, port, path, --fail and --connect-timeout from a curl argv', () => {
    expect(parseProbeCommand(['curl', '-sS', '--fail', '--connect-timeout', '5', '-o', '/dev/null', 'echo-a:8080/public'])).toEqual({
      negate: false,
      scheme: 'http',
      host: 'echo-a',
      port: 8080,
      path: '/public',
      failOnHttpError: true,
      connectTimeoutMs: 5000,
      maxTimeMs: undefined,
    });
  });

  it('defaults to port 80 and path / for a bare host name', () => {
    expect(parseProbeCommand(['curl', '-sS', '--fail', '-o', '/dev/null', 'one.one.one.one'])).toMatchObject({ host: 'one.one.one.one', port: 80, path: '/' });
  });

  it('reads the negated form run through ash -c', () => {
    const probe = parseProbeCommand(['ash', '-c', '! curl -s --fail --connect-timeout 5 -o /dev/null echo-a:8080/private']);
    expect(probe).toMatchObject({ negate: true, host: 'echo-a', port: 8080, path: '/private', failOnHttpError: true });
  });

  it('uses port 443 for https URLs', () => {
    expect(parseProbeCommand(['curl', 'https://1.1.1.1'])).toMatchObject({ scheme: 'https', host: '1.1.1.1', port: 443 });
  });

  it('rejects curl options it does not understand', () => {
    expect(() => parseProbeCommand(['curl', '-X', 'POST', 'echo-a'])).toThrow(/unsupported curl option '-X'/);
  });

  it('rejects commands other than curl', () => {
    expect(() => parseProbeCommand(['cat', '/tmp/healthy'])).toThrow(/curl commands only/);
  });
});

describe('shellWords', () => {
  it('splits on blanks and honours quotes', () => {
    expect(shellWords(`! curl -H 'a b' "c\\"d" e\\ f`)).toEqual(['!', 'curl', '-H', 'a b', 'c"d', 'e f']);
  });
});
