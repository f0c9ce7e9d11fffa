import { shownKey } from './filterError.ts';

/**
 * Kubernetes namespace names are DNS-1123 labels: at most 63 lower-case
 * letters, digits and '-', starting and ending with a letter or digit. Every
 * namespace a client gives (API parameters, stream subscriptions, the
 * namespace part of pod and service filters, CLI flags) is checked here.
 */
export const MAX_NAMESPACE_NAME_LENGTH = 63;
const DNS_1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/** Why `text` is not a namespace name, as `'text' is not …` (the text cut short when long), or undefined when it is one. */
export function namespaceNameProblem(text: string): string | undefined {
  if (text.length > MAX_NAMESPACE_NAME_LENGTH) {
    return `'${shownKey(text)}' is ${text.length} characters long; a namespace name has at most ${MAX_NAMESPACE_NAME_LENGTH} (a DNS-1123 label)`;
  }
  if (!DNS_1123_LABEL.test(text)) {
    return `'${text}' is not a namespace name (lower-case letters, digits and '-', starting and ending with a letter or digit)`;
  }
  return undefined;
}
