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

/** A value as it appears in an error message. */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
