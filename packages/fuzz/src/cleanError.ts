/**
 * What "a clear error" means for the fuzz tests: a non-empty, one-paragraph
 * message that starts by naming what was wrong (`field: …`), with no stack
 * trace and no internal-error wording leaking out.
 */

/** A V8 stack frame line (`    at fn (file:1:2)`). */
export const STACK_FRAME = /^\s+at .+/m;

/** Why `message` is not a clear error, or undefined when it is one. `fields` are the names it may start with. */
export function unclearErrorReason(message: unknown, fields: readonly string[]): string | undefined {
  if (typeof message !== 'string' || message.trim() === '') return `the error is not a non-empty string: ${JSON.stringify(message)}`;
  if (STACK_FRAME.test(message)) return 'the error carries a stack trace';
  if (/internal error|Maximum call stack|cannot be converted to a BigInt|Invalid time value|is not a function|Cannot read propert/i.test(message)) {
    return 'the error is an internal failure, not a validation message';
  }
  if (!fields.some((field) => message.startsWith(`${field}:`) || message.startsWith(`${field}[`) || message.startsWith(`${field}.`))) {
    return `the error does not start by naming one of ${fields.slice(0, 12).map((field) => `'${field}'`).join(', ')}${fields.length > 12 ? ', …' : ''}`;
  }
  return undefined;
}
