import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicies, parsePolicy, type Policy, PolicyError, type PolicyRef, policyRefKey, policyRefName } from '@tycho/policy';

/**
 * The policies collection of the API-server stand-in: CiliumNetworkPolicy,
 * CiliumClusterwideNetworkPolicy and NetworkPolicy objects, kept as one JSON
 * document `<root>/policies/policies.json` = `{revision, items}` and replaced
 * by an atomic rename, so a batch is in the store whole or not at all and a
 * reader never sees half of it. Every change bumps `revision`.
 */
export interface StoredPolicies {
  readonly revision: number;
  /** The objects as applied, `metadata.namespace` filled in for namespaced kinds; sorted by kind/namespace/name. */
  readonly items: readonly unknown[];
}

/** What an apply changed, per object, as kubectl reports it. */
export interface PolicyApplyResult {
  readonly revision: number;
  readonly results: readonly { readonly ref: PolicyRef; readonly action: 'created' | 'configured' | 'unchanged' }[];
}

/** One file's (or one request's) objects; `file` names them in errors. */
export interface PolicyBatch {
  readonly objects: readonly unknown[];
  readonly file?: string;
}

const FILE = 'policies.json';
const LOCK = '.lock';
/** A lock older than this belongs to a writer that died; it is broken. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

export class PolicyCollection {
  private readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'policies');
  }

  /** The document's path: a reader may stat it to tell that nothing changed without reading it. */
  get file(): string {
    return join(this.dir, FILE);
  }

  /** The stored document; an empty collection at revision 0 when nothing was applied. Throws when the file cannot be read or parsed. */
  read(): StoredPolicies {
    let text: string;
    try {
      text = readFileSync(join(this.dir, FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { revision: 0, items: [] };
      throw new Error(`kube store: cannot read ${join(this.dir, FILE)}: ${(err as Error).message}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new Error(`kube store: ${join(this.dir, FILE)} is not JSON: ${(err as Error).message}`);
    }
    const doc = value as { revision?: unknown; items?: unknown };
    if (!Number.isInteger(doc.revision) || !Array.isArray(doc.items)) {
      throw new Error(`kube store: ${join(this.dir, FILE)} does not hold {revision, items}`);
    }
    return { revision: doc.revision as number, items: doc.items };
  }

  /** The stored objects parsed; a stored object that no longer parses is an error naming it. */
  policies(): { revision: number; policies: Policy[] } {
    const stored = this.read();
    return { revision: stored.revision, policies: parsePolicies(stored.items, { file: join(this.dir, FILE) }) };
  }

  /**
   * Validates every object of every batch first (PolicyError naming the
   * file, object, path and reason); only when all are valid are they
   * written, replacing objects of the same kind/namespace/name.
   */
  apply(batches: readonly PolicyBatch[]): PolicyApplyResult {
    const incoming = batches.flatMap((batch) => parsePolicies(batch.objects, batch.file !== undefined ? { file: batch.file } : {}));
    return this.locked(() => {
      const current = this.read();
      const byKey = new Map<string, unknown>(current.items.map((item) => [policyRefKey(parsePolicy(item).ref), item]));
      const results: { ref: PolicyRef; action: 'created' | 'configured' | 'unchanged' }[] = [];
      let changed = false;
      for (const policy of incoming) {
        const key = policyRefKey(policy.ref);
        const object = storedObject(policy);
        const before = byKey.get(key);
        const action = before === undefined ? 'created' : JSON.stringify(before) === JSON.stringify(object) ? 'unchanged' : 'configured';
        if (action !== 'unchanged') changed = true;
        byKey.set(key, object);
        results.push({ ref: policy.ref, action });
      }
      const revision = changed ? current.revision + 1 : current.revision;
      if (changed) this.write(revision, byKey);
      return { revision, results };
    });
  }

  /** Deletes the policies; an unknown one is an error and then nothing is deleted. Returns the new revision. */
  delete(refs: readonly PolicyRef[]): number {
    return this.locked(() => {
      const current = this.read();
      const byKey = new Map<string, unknown>(current.items.map((item) => [policyRefKey(parsePolicy(item).ref), item]));
      const missing = refs.find((ref) => !byKey.has(policyRefKey(ref)));
      if (missing) throw new PolicyError(`${missing.kind} ${policyRefName(missing)}`, '', 'not found');
      if (refs.length === 0) return current.revision;
      for (const ref of refs) byKey.delete(policyRefKey(ref));
      this.write(current.revision + 1, byKey);
      return current.revision + 1;
    });
  }

  private write(revision: number, byKey: Map<string, unknown>): void {
    const items = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
    const file = join(this.dir, FILE);
    writeFileSync(`${file}.tmp`, JSON.stringify({ revision, items }));
    renameSync(`${file}.tmp`, file);
  }

  /** Runs `fn` holding `<dir>/.lock` (O_EXCL), so two writers never lose each other's changes. */
  private locked<T>(fn: () => T): T {
    mkdirSync(this.dir, { recursive: true });
    const lock = join(this.dir, LOCK);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        closeSync(openSync(lock, 'wx'));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (lockAgeMs(lock) > STALE_LOCK_MS) rmSync(lock, { force: true });
        else if (Date.now() > deadline) throw new Error(`kube store: ${lock} is held by another writer; try again`);
        else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
    try {
      return fn();
    } finally {
      rmSync(lock, { force: true });
    }
  }
}

function lockAgeMs(lock: string): number {
  try {
    return Date.now() - statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}

/** The applied object with the namespace it was applied to, so that reading it back gives the same policy. */
function storedObject(policy: Policy): unknown {
  const source = policy.source as { metadata?: Record<string, unknown> };
  if (!policy.ref.namespace) return source;
  return { ...source, metadata: { ...source.metadata, namespace: policy.ref.namespace } };
}
