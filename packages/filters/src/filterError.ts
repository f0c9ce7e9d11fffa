/**
 * A filter that cannot be used: names where (`whitelist[0].source_ip[1]`),
 * the field, the value given and what was expected.
 */
export class FilterError extends Error {
  override readonly name = 'FilterError';

  constructor(
    /** Where the bad value is, e.g. `whitelist[0].source_ip[1]`. */
    readonly path: string,
    /** The FlowFilter field, or undefined when the problem is the list or filter itself. */
    readonly field: string | undefined,
    readonly value: unknown,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

const MAX_SHOWN_CHARS = 80;
/** Lists and objects nested deeper than this are shown as `[…]` / `{…}`: a value from a client can nest thousands of levels. */
const MAX_SHOWN_DEPTH = 3;
const MAX_SHOWN_KEY_CHARS = 40;

/**
 * A value as it appears in an error message: its JSON, cut to 80 characters.
 * Only the part shown is visited, so any value (10,000 levels deep, a
 * million entries, a megabyte string) costs about the same.
 */
export function shown(value: unknown): string {
  const text = sketch(value, 0);
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS - 3)}...` : text;
}

/** An object key or other name from a client, as it appears in a path or message. */
export function shownKey(key: string): string {
  return key.length > MAX_SHOWN_KEY_CHARS ? `${key.slice(0, MAX_SHOWN_KEY_CHARS)}…` : key;
}

/** JSON of `value` up to about MAX_SHOWN_CHARS: stops adding entries once that much is written. */
function sketch(value: unknown, depth: number): string {
  if (typeof value === 'string') return JSON.stringify(value.length > MAX_SHOWN_CHARS ? value.slice(0, MAX_SHOWN_CHARS) : value);
  if (typeof value !== 'object' || value === null) return String(value);
  const isList = Array.isArray(value);
  if (depth >= MAX_SHOWN_DEPTH) return isList ? '[…]' : '{…}';
  let text = isList ? '[' : '{';
  let first = true;
  const add = (entry: string): boolean => {
    text += (first ? '' : ',') + entry;
    first = false;
    return text.length <= MAX_SHOWN_CHARS;
  };
  if (isList) {
    for (const item of value) if (!add(sketch(item, depth + 1))) return text;
  } else {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (!add(`${JSON.stringify(shownKey(key))}:${sketch((value as Record<string, unknown>)[key], depth + 1)}`)) return text;
    }
  }
  return text + (isList ? ']' : '}');
}
