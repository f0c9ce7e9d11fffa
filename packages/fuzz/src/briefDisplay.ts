import fc from 'fast-check';

/** `text` cut to `max` characters, saying how long it was: counterexamples of 200,000 characters help nobody. */
export function abbreviated(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} characters)`;
}

/** `value` with `display` as the text fast-check shows for it in a failure report. */
export function withDisplay<T extends object>(value: T, display: string): T {
  return Object.defineProperty(value, fc.toStringMethod, { value: () => display, enumerable: false });
}
