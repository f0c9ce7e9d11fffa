import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fqdnSelectorMatches, matchPatternProblem, normalizeDnsName } from './fqdnSelector.ts';

const pattern = (matchPattern: string) => ({ matchPattern });

describe('fqdnSelectorMatches', () => {
  it('compares matchName case-insensitively, with or without the trailing dot', () => {
    expect(fqdnSelectorMatches({ matchName: 'www.google.com' }, 'WWW.Google.com.')).toBe(true);
    expect(fqdnSelectorMatches({ matchName: 'www.google.com' }, 'mail.google.com')).toBe(false);
  });

  it('lets * in a pattern stand for characters of one label only', () => {
    expect(fqdnSelectorMatches(pattern('*.google.com'), 'www.google.com')).toBe(true);
    expect(fqdnSelectorMatches(pattern('*.google.com'), 'google.com')).toBe(false);
    expect(fqdnSelectorMatches(pattern('*.google.com'), 'a.b.google.com')).toBe(false);
    expect(fqdnSelectorMatches(pattern('*.google.com'), 'www.google.com.evil.org')).toBe(false);
    expect(fqdnSelectorMatches(pattern('*google.com'), 'google.com')).toBe(true);
    expect(fqdnSelectorMatches(pattern('*.ci*.io'), 'sub.ciliumandmore.io')).toBe(true);
    expect(fqdnSelectorMatches(pattern('*.ci*.io'), 'cilium.io')).toBe(false);
  });

  it('lets * alone match every name', () => {
    for (const name of ['io', 'cilium.io', 'one.one.one.one', '_foobar._tcp.cilium.io']) expect(fqdnSelectorMatches(pattern('*'), name)).toBe(true);
  });

  it('takes the dot in a pattern literally', () => {
    expect(fqdnSelectorMatches(pattern('www.google.com'), 'wwwxgoogle.com')).toBe(false);
  });

  it('answers a pattern with many stars against a 63-character label (exponential for a backtracking RegExp)', () => {
    const stars = pattern(`${'*a'.repeat(12)}*b.com`);
    expect(fqdnSelectorMatches(stars, `${'a'.repeat(63)}.com`)).toBe(false);
    expect(fqdnSelectorMatches(stars, `${'a'.repeat(62)}b.com`)).toBe(true);
    expect(fqdnSelectorMatches(pattern('*a*a*a*a*a*a*a*a*a*a*a*a*'), 'a'.repeat(11))).toBe(false);
  });

  it('agrees with the regular expression Cilium compiles a pattern to', () => {
    // Cilium's form ([-a-zA-Z0-9_]* per star, the dot literal), run on inputs small enough for backtracking to be cheap.
    const reference = (matchPattern: string, name: string): boolean => {
      const normalizedPattern = normalizeDnsName(matchPattern);
      const normalizedName = normalizeDnsName(name);
      if (normalizedPattern === '*') return /^[-a-z0-9_]+(\.[-a-z0-9_]+)*$|^\.$/.test(normalizedName);
      const body = [...normalizedPattern].map((c) => (c === '*' ? '[-a-z0-9_]*' : c === '.' ? '\\.' : c)).join('');
      return new RegExp(`^${body}$`).test(normalizedName);
    };
    const text = (chars: string, maxLength: number) => fc.string({ unit: fc.constantFrom(...chars), maxLength });
    fc.assert(
      fc.property(text('aB-_.*', 8), text('aAb-_.*+ ', 10), (matchPattern, name) => {
        expect(fqdnSelectorMatches(pattern(matchPattern), name)).toBe(reference(matchPattern, name));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses characters outside letters, digits, -, _, . and *', () => {
    expect(matchPatternProblem('*.goo+gle.com')).toMatch(/may only hold/);
    expect(matchPatternProblem('[a-z].com')).toMatch(/may only hold/);
    expect(matchPatternProblem('*.google.com')).toBeUndefined();
  });
});
