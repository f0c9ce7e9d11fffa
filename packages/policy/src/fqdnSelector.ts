/**
 * toFQDNs and DNS-rule selectors with Cilium's semantics: names compare
 * case-insensitively and without the trailing dot; in a matchPattern `*`
 * stands for zero or more DNS characters within one label (`[-a-zA-Z0-9_]*`,
 * never a dot), so `*.google.com` matches `www.google.com` but neither
 * `google.com` nor `a.b.google.com`; `*` alone matches every name.
 * Patterns come from users and names from pods' DNS answers, so they are
 * matched without a RegExp, in time bounded by name × pattern length.
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

/** Characters a `*` may stand for: those of one DNS label. */
function isLabelChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 45 || code === 95;
}

function isDnsLabel(label: string): boolean {
  for (let i = 0; i < label.length; i++) if (!isLabelChar(label.charCodeAt(i))) return false;
  return true;
}

/**
 * Whether one label of a name matches one label of a pattern, `*` standing
 * for any run of label characters. Two pointers, going back only to the
 * latest `*` (what it covers grows by one character each time): at most
 * label × pattern steps, where a backtracking RegExp of `*a*a*a*b` takes
 * time exponential in the number of stars.
 */
function labelMatches(pattern: string, label: string): boolean {
  if (!isDnsLabel(label)) return false;
  let p = 0;
  let t = 0;
  let star = -1;
  let starCovers = 0;
  while (t < label.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      starCovers = t;
    } else if (p < pattern.length && pattern[p] === label[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++starCovers;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * A `*` never stands for a dot and a dot only matches a dot, so a pattern
 * matches a name exactly when both have as many labels and each label
 * matches its own.
 */
function patternMatches(pattern: string, name: string): boolean {
  const normalized = normalizeDnsName(pattern);
  const labels = name.split('.');
  if (normalized === '*') return name === '.' || labels.every((label) => label !== '' && isDnsLabel(label));
  const patternLabels = normalized.split('.');
  return patternLabels.length === labels.length && patternLabels.every((patternLabel, i) => labelMatches(patternLabel, labels[i]!));
}

/** Whether `name` (as a DNS answer carries it, with or without the trailing dot) is selected. */
export function fqdnSelectorMatches(selector: FqdnSelector, name: string): boolean {
  const normalized = normalizeDnsName(name);
  if ('matchName' in selector) return normalizeDnsName(selector.matchName) === normalized;
  return patternMatches(selector.matchPattern, normalized);
}

export function describeFqdnSelector(selector: FqdnSelector): string {
  return 'matchName' in selector ? `matchName: ${selector.matchName}` : `matchPattern: ${selector.matchPattern}`;
}
