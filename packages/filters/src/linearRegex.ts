import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';
import { shownKey } from './filterError.ts';

/**
 * Regular expressions from users (`http_path`, `dns_query`, and the
 * wildcard patterns built from `*_fqdn` and `node_name`), matched by RE2JS:
 * RE2 syntax and linear-time matching, as Hubble's Go regexp. A backtracking
 * engine (JavaScript's RegExp) takes exponential time on patterns such as
 * `(a+)+$`; RE2 has no backreferences or lookaround, which is what lets it
 * promise time linear in the input.
 */
export interface LinearRegex {
  /** Whether the pattern matches anywhere in `text` (unanchored, as Go's `MatchString`). */
  test(text: string): boolean;
}

/** A pattern RE2 refuses, or one too large to compile within the budget. */
export class RegexError extends Error {
  override readonly name = 'RegexError';
}

/**
 * The most instructions (as estimated by `regexProgramBound`) the patterns
 * of one filter list may compile to. RE2 expands counted repetition, so a
 * 7-character `a{1000}` is 1,000 instructions, and compiling costs about a
 * microsecond per instruction: this keeps a whole list around 20–40 ms.
 */
export const MAX_REGEX_PROGRAM = 20_000;

/** Instructions every program has whatever its pattern (start, match, the whole-match captures). */
const PROGRAM_OVERHEAD = 4;
const COUNTED_REPEAT = /\{(\d+)(?:(,)(\d*))?\}/y;

/**
 * An upper bound of the instructions RE2 compiles `pattern` to, read in one
 * pass without compiling it: a literal, class or escape is one instruction, a
 * group adds its two captures, `|`, `*`, `+` and `?` one each, and `{m,n}`
 * repeats what it follows max(m, n) times. A malformed pattern gets some
 * number too; compiling it says what is wrong.
 */
export function regexProgramBound(pattern: string): number {
  /** Open groups, innermost last: instructions so far, and those of the last item (what a repetition repeats). */
  const groups = [{ total: PROGRAM_OVERHEAD, last: 0 }];
  let i = 0;
  while (i < pattern.length) {
    const group = groups[groups.length - 1]!;
    const c = pattern[i];
    let item = 1;
    let next = i + 1;
    if (c === '\\') {
      const escaped = pattern[i + 1];
      if (escaped === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        next = end === -1 ? pattern.length : end + 2;
        item = next - i;
      } else if ((escaped === 'p' || escaped === 'P' || escaped === 'x') && pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i + 3);
        next = end === -1 ? pattern.length : end + 1;
      } else {
        next = i + 2;
      }
    } else if (c === '[') {
      next = classEnd(pattern, i);
    } else if (c === '(') {
      groups.push({ total: 0, last: 0 });
      i = next;
      continue;
    } else if (c === ')' && groups.length > 1) {
      groups.pop();
      item = group.total + 2;
    } else if (c === '|') {
      group.total += 1;
      group.last = 0;
      i = next;
      continue;
    } else if (c === '*' || c === '+' || c === '?') {
      group.total += 1;
      group.last += 1;
      i = next;
      continue;
    } else if (c === '{') {
      COUNTED_REPEAT.lastIndex = i;
      const repeat = COUNTED_REPEAT.exec(pattern);
      if (repeat) {
        const min = Number(repeat[1]);
        const copies = repeat[2] === undefined ? min : repeat[3] === '' ? min + 1 : Math.max(min, Number(repeat[3]));
        // Each copy of what is repeated, plus a split for each optional one.
        const added = group.last * Math.max(copies - 1, 0) + copies;
        group.total += added;
        group.last += added;
        i = COUNTED_REPEAT.lastIndex;
        continue;
      }
    }
    const parent = groups[groups.length - 1]!;
    parent.total += item;
    parent.last = item;
    i = next;
  }
  // Groups left open (a syntax error RE2 will report) still count.
  return groups.reduce((sum, group) => sum + group.total, 0);
}

/** The index after the `]` closing the class that starts at `start` (a `]` first in the class is a literal). */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') i += 2;
    else if (c === ']') return i + 1;
    else i++;
  }
  return pattern.length;
}

/**
 * Compiles a pattern in RE2 syntax; throws a `RegexError` saying what RE2
 * refuses (`invalid escape sequence: \1` for a backreference, `invalid or
 * unsupported Perl syntax: (?=` for lookahead).
 */
export function compileRegex(pattern: string): LinearRegex {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    if (err instanceof RE2JSSyntaxException) {
      const at = err.input === null ? '' : `: \`${shownKey(err.input)}\``;
      throw new RegexError(`${err.getDescription()}${at}`);
    }
    if (err instanceof RE2JSException) throw new RegexError(err.message);
    throw err;
  }
}
