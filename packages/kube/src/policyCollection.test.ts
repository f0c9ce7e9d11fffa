import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyError } from '@tycho/policy';
import { DirectoryKubeStore } from './kubeStore.ts';

let root: string;
let store: DirectoryKubeStore;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tycho-kube-'));
  store = new DirectoryKubeStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const cnp = (name: string, port = '8080', extra: Record<string, unknown> = {}) => ({
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name, ...extra },
  spec: { endpointSelector: { matchLabels: { name } }, egress: [{ toEndpoints: [{ matchLabels: { name: 'echo-a' } }], toPorts: [{ ports: [{ port, protocol: 'TCP' }] }] }] },
});
const ccnp = (name: string) => ({
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumClusterwideNetworkPolicy',
  metadata: { name },
  spec: { endpointSelector: {}, ingress: [{ fromEntities: ['cluster'] }] },
});
const knp = (name: string, namespace: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }] },
});

describe('DirectoryKubeStore policies', () => {
  it('is empty at revision 0 before anything is applied', () => {
    expect(store.policies.read()).toEqual({ revision: 0, items: [] });
  });

  it('stores CNP, CCNP and NetworkPolicy objects with the namespace they were applied to, sorted', () => {
    const result = store.policies.apply([{ file: 'a.yaml', objects: [knp('np', 'team-a'), cnp('x'), ccnp('all')] }]);
    expect(result.revision).toBe(1);
    expect(result.results.map((r) => `${r.ref.kind}/${r.ref.namespace}/${r.ref.name} ${r.action}`)).toEqual([
      'NetworkPolicy/team-a/np created',
      'CiliumNetworkPolicy/default/x created',
      'CiliumClusterwideNetworkPolicy//all created',
    ]);
    const stored = store.policies.read();
    expect(stored.revision).toBe(1);
    expect(stored.items.map((item) => (item as { metadata: { namespace?: string; name: string } }).metadata)).toEqual([
      { name: 'all' },
      { name: 'x', namespace: 'default' },
      { name: 'np', namespace: 'team-a' },
    ]);
    expect(store.policies.policies().policies.map((p) => p.ref.name)).toEqual(['all', 'x', 'np']);
  });

  it('reports configured and unchanged objects, and bumps the revision only when something changed', () => {
    store.policies.apply([{ objects: [cnp('x'), cnp('y')] }]);
    const again = store.policies.apply([{ objects: [cnp('x', '8081'), cnp('y')] }]);
    expect(again.results.map((r) => r.action)).toEqual(['configured', 'unchanged']);
    expect(again.revision).toBe(2);
    const same = store.policies.apply([{ objects: [cnp('x', '8081')] }]);
    expect(same).toMatchObject({ revision: 2, results: [{ action: 'unchanged' }] });
  });

  it('writes nothing when one object of any batch is invalid, and names file, object, path and reason', () => {
    store.policies.apply([{ objects: [cnp('x')] }]);
    const before = readFileSync(join(root, 'policies', 'policies.json'), 'utf8');
    let error: unknown;
    try {
      store.policies.apply([
        { file: 'good.yaml', objects: [cnp('y')] },
        { file: 'bad.yaml', objects: [cnp('z'), cnp('broken', '70000')] },
      ]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).message).toMatch(/^bad\.yaml: CiliumNetworkPolicy broken: spec\.egress\[0\]\.toPorts\[0\]\.ports\[0\]\.port: 70000 is not a port/);
    expect(readFileSync(join(root, 'policies', 'policies.json'), 'utf8')).toBe(before);
    expect(store.policies.read().items).toHaveLength(1);
  });

  it('deletes all named policies or, when one is unknown, none', () => {
    store.policies.apply([{ objects: [cnp('x'), cnp('y')] }]);
    expect(() => store.policies.delete([{ kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'x' }, { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'nope' }])).toThrow(
      'CiliumNetworkPolicy default/nope: not found',
    );
    expect(store.policies.read().items).toHaveLength(2);
    expect(store.policies.delete([{ kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'x' }])).toBe(2);
    expect(store.policies.policies().policies.map((p) => p.ref.name)).toEqual(['y']);
  });

  it('says which file is broken when the stored document cannot be parsed', () => {
    store.policies.apply([{ objects: [cnp('x')] }]);
    writeFileSync(join(root, 'policies', 'policies.json'), '{"revision": 3, "items": [');
    expect(() => store.policies.read()).toThrow(/policies\.json is not JSON/);
  });

  it('keeps namespaces as cluster-scoped objects', () => {
    store.put('namespaces', { metadata: { name: 'team-a', labels: { team: 'a' } } });
    expect(store.listNamespaces()).toEqual([{ metadata: { name: 'team-a', labels: { team: 'a' } } }]);
  });
});
