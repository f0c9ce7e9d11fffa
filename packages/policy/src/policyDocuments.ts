import { loadAll } from 'js-yaml';
import { parsePolicy, type ParseOptions } from './parsePolicy.ts';
import { PolicyError } from './policyError.ts';
import { type Policy, policyRefKey, policyRefName } from './policyModel.ts';

/**
 * Splits YAML or JSON text (several `---` documents, or a `kind: List`) into
 * objects; empty documents are skipped. Throws a PolicyError for bad YAML.
 */
export function policyObjectsFromText(text: string, file?: string): unknown[] {
  let documents: unknown[];
  try {
    documents = loadAll(text);
  } catch (err) {
    throw new PolicyError('document', '', `invalid YAML: ${(err as Error).message.split('\n')[0]}`, file);
  }
  const objects: unknown[] = [];
  for (const document of documents) {
    if (document === null || document === undefined) continue;
    const list = document as { kind?: unknown; items?: unknown };
    if (list.kind === 'List' && Array.isArray(list.items)) objects.push(...list.items);
    else objects.push(document);
  }
  return objects;
}

/**
 * Parses every object, or none: the first invalid one throws a PolicyError
 * (naming `document N` when it has no name) and no policy is returned.
 * The same policy twice in one batch is an error too.
 */
export function parsePolicies(objects: readonly unknown[], options: ParseOptions = {}): Policy[] {
  const policies: Policy[] = [];
  const seen = new Map<string, number>();
  objects.forEach((object, i) => {
    const policy = parsePolicy(object, { ...options, documentLabel: `document ${i + 1}` });
    const key = policyRefKey(policy.ref);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new PolicyError(`${policy.ref.kind} ${policyRefName(policy.ref)}`, 'metadata.name', `also defined in document ${earlier + 1}`, options.file);
    }
    seen.set(key, i);
    policies.push(policy);
  });
  return policies;
}

/** `parsePolicies(policyObjectsFromText(text))`. */
export function parsePolicyText(text: string, options: ParseOptions = {}): Policy[] {
  return parsePolicies(policyObjectsFromText(text, options.file), options);
}
