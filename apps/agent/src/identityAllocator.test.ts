import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentityAllocator, securityLabels } from './identityAllocator.ts';

const run = promisify(execFile);
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-identities-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('securityLabels', () => {
  it('prefixes pod labels with k8s:, adds the namespace and sorts', () => {
    expect(securityLabels('default', { name: 'echo-a', app: 'echo' })).toEqual([
      'k8s:app=echo',
      'k8s:io.kubernetes.pod.namespace=default',
      'k8s:name=echo-a',
    ]);
  });

  it('leaves out the ReplicaSet hash so a rollout keeps the identity', () => {
    expect(securityLabels('default', { app: 'echo', 'pod-template-hash': '5f7c' })).toEqual([
      'k8s:app=echo',
      'k8s:io.kubernetes.pod.namespace=default',
    ]);
  });
});

describe('IdentityAllocator', () => {
  const echo = ['k8s:app=echo', 'k8s:io.kubernetes.pod.namespace=default'];
  const client = ['k8s:app=client', 'k8s:io.kubernetes.pod.namespace=default'];

  it('gives workload identities from 256', () => {
    expect(new IdentityAllocator(dir).identityFor(echo)).toBe(256);
  });

  it('gives the same label set the same identity from another allocator (another node)', () => {
    const node1 = new IdentityAllocator(dir);
    const node2 = new IdentityAllocator(dir);
    const id = node1.identityFor(echo);
    expect(node2.identityFor([...echo].reverse())).toBe(id);
  });

  it('gives different label sets different identities across allocators', () => {
    const node1 = new IdentityAllocator(dir);
    const node2 = new IdentityAllocator(dir);
    expect(node1.identityFor(echo)).not.toBe(node2.identityFor(client));
  });

  it('finds the labels of an identity another allocator created', () => {
    const id = new IdentityAllocator(dir).identityFor(client);
    expect(new IdentityAllocator(dir).labelsOf(id)).toEqual(client);
    expect(new IdentityAllocator(dir).labelsOf(9999)).toBeUndefined();
  });

  it('agrees across processes allocating the same label sets at the same time', async () => {
    const allocatorModule = fileURLToPath(new URL('./identityAllocator.ts', import.meta.url));
    const labelSets = Array.from({ length: 25 }, (_, i) => [`k8s:app=app-${i}`, 'k8s:io.kubernetes.pod.namespace=default']);
    const script = `
      import { IdentityAllocator } from ${JSON.stringify(allocatorModule)};
      const sets = JSON.parse(process.env.LABEL_SETS);
      if (process.env.REVERSE === '1') sets.reverse();
      const allocator = new IdentityAllocator(process.env.IDENTITY_DIR);
      const result = {};
      for (const labels of sets) result[labels[0]] = allocator.identityFor(labels);
      process.stdout.write(JSON.stringify(result));
    `;
    const workers = [0, 1, 2, 3].map((i) =>
      run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, LABEL_SETS: JSON.stringify(labelSets), IDENTITY_DIR: dir, REVERSE: String(i % 2) },
      }),
    );
    const results = (await Promise.all(workers)).map(({ stdout }) => JSON.parse(stdout) as Record<string, number>);
    for (const result of results) expect(result).toEqual(results[0]);
    const ids = Object.values(results[0] ?? {});
    expect(ids).toHaveLength(25);
    expect(new Set(ids).size).toBe(25);
    expect(Math.min(...ids)).toBeGreaterThanOrEqual(256);
  });
});
