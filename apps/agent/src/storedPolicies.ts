import { statSync } from 'node:fs';
import type { PolicyCollection } from '@tycho/kube';
import { type Policy, parsePolicy } from '@tycho/policy';

/**
 * The policies of the store as the agent reads them, at the cost of what
 * changed: while the document's file is the same (inode, size, mtime) the
 * last result is returned without reading it, and of a new document only
 * the objects whose text changed are parsed again. The resolver polls this
 * every second besides file-system events, so with a large policy in force
 * an idle agent must not parse it again and again.
 */
export function createStoredPolicyReader(collection: Pick<PolicyCollection, 'file' | 'read'>): () => { revision: number; policies: Policy[] } {
  let fileStamp: string | undefined;
  let last: { revision: number; policies: Policy[] } | undefined;
  let parsedByText = new Map<string, Policy>();
  return () => {
    const stamp = stampOf(collection.file);
    if (last && stamp !== undefined && stamp === fileStamp) return last;
    const stored = collection.read();
    const next = new Map<string, Policy>();
    const policies = stored.items.map((item, index) => {
      const text = JSON.stringify(item);
      const policy = parsedByText.get(text) ?? next.get(text) ?? parsePolicy(item, { file: collection.file, documentLabel: `document ${index + 1}` });
      next.set(text, policy);
      return policy;
    });
    parsedByText = next;
    last = { revision: stored.revision, policies };
    fileStamp = stamp;
    return last;
  };
}

/** Identifies one version of the file; undefined when it does not exist (nothing applied yet). */
function stampOf(file: string): string | undefined {
  try {
    const stat = statSync(file, { bigint: true });
    return `${stat.ino}/${stat.size}/${stat.mtimeNs}`;
  } catch {
    return undefined;
  }
}
