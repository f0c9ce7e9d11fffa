/**
 * toFQDNs and DNS-rule selectors with Cilium's semantics: names compare
 * case-insensitively and without the trailing dot; in a matchPattern `*`
 * stands for zero or more DNS characters within one label (`[-a-zA-Z0-9_]*`,
 * never a dot), so `*.google.com` matches `www.google.com` but neither
 * `google.com` nor `a.b.google.com`; `*` alone matches every name.
 */

export type FqdnSelector = { readonly matchName: string } | { readonly matchPattern: string };

const NAME_CHARS = /^[-a-zA-Z0-9_.]+$/;
const PATTERN_CHARS = /^[-a-zA-Z0-9_.*]+$/;

/** Lower-case, without the trailing dot: the form names are compared in. */
export function normalizeDnsName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') && lower.length > 1 ? lower.slice(0, -1) : lower;
}

/** Why a matchName is invalid, or undefined. */
export function matchNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (!NAME_CHARS.test(name)) return `'${name}' may only hold letters, digits, '-', '_' and '.'`;
  return undefined;
}

/** Why a matchPattern is invalid, or undefined. */
export function matchPatternProblem(pattern: string): string | undefined {
  if (pattern === '') return 'must not be empty';
  if (!PATTERN_CHARS.test(pattern)) return `'${pattern}' may only hold letters, digits, '-', '_', '.' and '*'`;
  return undefined;
}

function patternRegExp(pattern: string): RegExp {
  const normalized = normalizeDnsName(pattern);
  if (normalized === '*') return /^[-a-z0-9_]+(\.[-a-z0-9_]+)*$|^\.$/;
  const body = normalized
    .split('')
    .map((c) => (c === '*' ? '[-a-z0-9_]*' : c === '.' ? '\\.' : c))
    .join('');
  return new RegExp(`^${body}$`);
}

const compiled = new Map<string, RegExp>();

/** Whether `name` (as a DNS answer carries it, with or without the trailing dot) is selected. */
export function fqdnSelectorMatches(selector: FqdnSelector, name: string): boolean {
  const normalized = normalizeDnsName(name);
  if ('matchName' in selector) return normalizeDnsName(selector.matchName) === normalized;
  let re = compiled.get(selector.matchPattern);
  if (!re) {
    re = patternRegExp(selector.matchPattern);
    compiled.set(selector.matchPattern, re);
  }
  return re.test(normalized);
}

export function describeFqdnSelector(selector: FqdnSelector): string {
  return 'matchName' in selector ? `matchName: ${selector.matchName}` : `matchPattern: ${selector.matchPattern}`;
}
