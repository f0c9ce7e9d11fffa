import { describe, expect, it } from 'vitest';
import { RE2JS } from 're2js';
import { compileRegex, RegexError, regexProgramBound } from './linearRegex.ts';

describe('compileRegex', () => {
  it('searches anywhere in the text, as Go’s MatchString', () => {
    expect(compileRegex('ub').test('/public')).toBe(true);
    expect(compileRegex('^ub').test('/public')).toBe(false);
  });

  it('answers (a+)+$ against 5,000 a’s and a ! (exponential for a backtracking engine)', () => {
    const pattern = compileRegex('(a+)+$');
    expect(pattern.test(`${'a'.repeat(5000)}!`)).toBe(false);
    expect(pattern.test('a'.repeat(5000))).toBe(true);
  });

  it.each([
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
    ['(?=a)b', 'invalid or unsupported Perl syntax: `(?=`'],
    ['a{1001}', 'invalid repeat count: `{1001}`'],
  ])('refuses %s as RE2 does', (pattern, message) => {
    expect(() => compileRegex(pattern)).toThrow(RegexError);
    expect(() => compileRegex(pattern)).toThrow(message);
  });
});

describe('regexProgramBound', () => {
  it.each(['a', '^/api/.*$', '(a+)+$', 'x{2,1000}', '(?:[a-z0-9]{1,63}\\.){1,10}', '((a{10}){10}){10}', '[^]a]{20}', '\\pL{100}', '\\Qa.b\\E{10}', 'x{5,}', '(a|b)*a(a|b){12}c'])(
    'is at least what RE2 compiles %s to',
    (pattern) => {
      expect(regexProgramBound(pattern)).toBeGreaterThanOrEqual(RE2JS.compile(pattern).programSize());
    },
  );

  it('counts what counted repetition copies', () => {
    expect(regexProgramBound('a{1000}'.repeat(20))).toBeGreaterThan(20_000);
  });
});
