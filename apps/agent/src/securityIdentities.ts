import { createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_WORKLOAD_IDENTITY } from '@tycho/flow';

/** Label keys Cilium leaves out of identities: they change on every rollout without changing who a pod is. */
const IGNORED_LABEL_KEYS = new Set(['pod-template-hash', 'controller-revision-hash', 'pod-template-generation']);

/**
 * A pod's security labels: its labels as `k8s:key=value` plus its namespace
 * as `k8s:io.kubernetes.pod.namespace=<ns>`, sorted.
 */
export function securityLabels(namespace: string, podLabels: Record<string, string> | undefined): string[] {
  const labels = Object.entries(podLabels ?? {})
    .filter(([key]) => !IGNORED_LABEL_KEYS.has(key))
    .map(([key, value]) => `k8s:${key}=${value}`);
  labels.push(`k8s:io.kubernetes.pod.namespace=${namespace}`);
  return [...new Set(labels)].sort();
}

export interface IdentityRecord {
  identity: number;
  labels: string[];
}

/**
 * Numeric security identities for label sets, equal on every node: all agents
 * allocate through one shared directory (in the lab `<kube-dir>/identities/`).
 *
 *   by-id/<n>.json          claims number n (first writer wins)
 *   by-labels/<sha256>.json binds a label set to its number (first writer wins)
 *
 * Each file is written to a private temp file opened with O_EXCL and then
 * published with link(2), which fails if the name exists: a reader never sees
 * a half-written file and two agents can never both win. An agent that claims
 * a number but loses the label-set race releases its number and adopts the
 * winner's.
 */
export class IdentityAllocator {
  private readonly byLabels = new Map<string, number>();
  private readonly labelsById = new Map<number, string[]>();
  private nextCandidate = MIN_WORKLOAD_IDENTITY;
  /** by-labels files already read: a binding never changes once published. */
  private readonly boundFiles = new Map<string, IdentityRecord>();

  constructor(readonly dir: string) {
    for (const sub of ['by-id', 'by-labels', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
    for (const file of readdirSync(join(dir, 'by-id'))) {
      const n = Number.parseInt(file, 10);
      if (n >= this.nextCandidate) this.nextCandidate = n + 1;
    }
  }

  /** The identity of a label set, allocating one if no agent has yet. */
  identityFor(labels: readonly string[]): number {
    const sorted = [...new Set(labels)].sort();
    const key = sorted.join('\n');
    const cached = this.byLabels.get(key);
    if (cached !== undefined) return cached;

    const labelsFile = join(this.dir, 'by-labels', `${labelSetHash(key)}.json`);
    const existing = readRecord(labelsFile);
    if (existing) return this.remember(key, existing);

    const claimed = this.claimNumber(sorted);
    if (publishExclusive(this.dir, labelsFile, { identity: claimed, labels: sorted })) {
      return this.remember(key, { identity: claimed, labels: sorted });
    }
    unlinkSync(join(this.dir, 'by-id', `${claimed}.json`));
    const winner = readRecord(labelsFile);
    if (!winner) throw new Error(`identity allocator: ${labelsFile} exists but cannot be read`);
    return this.remember(key, winner);
  }

  /** The labels of an identity allocated by any agent, or undefined. */
  labelsOf(identity: number): string[] | undefined {
    const cached = this.labelsById.get(identity);
    if (cached) return cached;
    const record = readRecord(join(this.dir, 'by-id', `${identity}.json`));
    if (!record) return undefined;
    // A claim can belong to an agent that lost the label-set race and is about to release it.
    const bound = readRecord(join(this.dir, 'by-labels', `${labelSetHash(record.labels.join('\n'))}.json`));
    if (bound?.identity !== identity) return undefined;
    this.remember(record.labels.join('\n'), record);
    return record.labels;
  }

  /**
   * Every identity any agent has bound (the by-labels files), for policy
   * resolution: a peer selector must see the identities of other nodes' pods too.
   */
  list(): IdentityRecord[] {
    const out: IdentityRecord[] = [];
    for (const file of readdirSync(join(this.dir, 'by-labels'))) {
      if (!file.endsWith('.json')) continue;
      const known = this.boundFiles.get(file);
      if (known) {
        out.push(known);
        continue;
      }
      const record = readRecord(join(this.dir, 'by-labels', file));
      if (!record) continue;
      this.boundFiles.set(file, record);
      out.push(record);
    }
    return out.sort((a, b) => a.identity - b.identity);
  }

  private claimNumber(labels: string[]): number {
    for (let n = this.nextCandidate; ; n++) {
      if (publishExclusive(this.dir, join(this.dir, 'by-id', `${n}.json`), { identity: n, labels })) {
        this.nextCandidate = n + 1;
        return n;
      }
    }
  }

  private remember(key: string, record: IdentityRecord): number {
    this.byLabels.set(key, record.identity);
    this.labelsById.set(record.identity, record.labels);
    return record.identity;
  }
}

function labelSetHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Writes `record` at `target` unless the name exists; true if this call created it. */
function publishExclusive(dir: string, target: string, record: IdentityRecord): boolean {
  const temp = join(dir, 'tmp', `${process.pid}-${randomBytes(6).toString('hex')}`);
  writeFileSync(temp, JSON.stringify(record), { flag: 'wx' });
  try {
    linkSync(temp, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`identity allocator: cannot publish ${target}: ${(err as Error).message}`);
  } finally {
    unlinkSync(temp);
  }
}

function readRecord(file: string): IdentityRecord | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const record = JSON.parse(text) as IdentityRecord;
  if (!Number.isInteger(record.identity) || !Array.isArray(record.labels)) {
    throw new Error(`identity allocator: ${file} does not hold {identity, labels}`);
  }
  return record;
}
