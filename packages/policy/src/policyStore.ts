import { parsePolicies, policyObjectsFromText } from './policyDocuments.ts';
import type { ParseOptions } from './parsePolicy.ts';
import { PolicyError } from './policyError.ts';
import { type Policy, type PolicyRef, policyRefKey, policyRefName } from './policyModel.ts';

export interface ApplyResult {
  readonly revision: number;
  readonly created: readonly PolicyRef[];
  readonly configured: readonly PolicyRef[];
}

/**
 * The policies in force, changed only as a whole batch: `apply` parses
 * every object first and changes nothing when one is invalid; a policy
 * applied again under the same kind/namespace/name replaces the old one.
 * Each change bumps `revision`, so whoever compiles policies can tell
 * whether its result is current.
 */
export class PolicyStore {
  private readonly byKey = new Map<string, Policy>();
  private revisionNumber = 0;

  get revision(): number {
    return this.revisionNumber;
  }

  /** Objects, or YAML/JSON text holding them. Throws PolicyError; then nothing changed. */
  apply(input: string | readonly unknown[], options: ParseOptions = {}): ApplyResult {
    const objects = typeof input === 'string' ? policyObjectsFromText(input, options.file) : input;
    const policies = parsePolicies(objects, options);
    const created: PolicyRef[] = [];
    const configured: PolicyRef[] = [];
    for (const policy of policies) {
      const key = policyRefKey(policy.ref);
      (this.byKey.has(key) ? configured : created).push(policy.ref);
      this.byKey.set(key, policy);
    }
    if (policies.length > 0) this.revisionNumber++;
    return { revision: this.revisionNumber, created, configured };
  }

  /** Deletes the policies; unknown ones are an error and then nothing is deleted. */
  delete(refs: readonly PolicyRef[]): number {
    const missing = refs.find((ref) => !this.byKey.has(policyRefKey(ref)));
    if (missing) throw new PolicyError(`${missing.kind} ${policyRefName(missing)}`, '', 'not found');
    for (const ref of refs) this.byKey.delete(policyRefKey(ref));
    if (refs.length > 0) this.revisionNumber++;
    return this.revisionNumber;
  }

  get(ref: PolicyRef): Policy | undefined {
    return this.byKey.get(policyRefKey(ref));
  }

  /** Sorted by kind, namespace, name. */
  list(): Policy[] {
    return [...this.byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, policy]) => policy);
  }
}
