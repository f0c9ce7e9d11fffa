import { describe, expect, it } from 'vitest';
import { fqdnSelectorMatches, matchPatternProblem } from './fqdnSelector.ts';

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

  it('refuses characters outside letters, digits, -, _, . and *', () => {
    expect(matchPatternProblem('*.goo+gle.com')).toMatch(/may only hold/);
    expect(matchPatternProblem('[a-z].com')).toMatch(/may only hold/);
    expect(matchPatternProblem('*.google.com')).toBeUndefined();
  });
});
