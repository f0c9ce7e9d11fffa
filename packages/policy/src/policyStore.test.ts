import { describe, expect, it } from 'vitest';
import { PolicyError } from './policyError.ts';
import { PolicyStore } from './policyStore.ts';

const good = (name: string, port = '80') => `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: ${name} }
spec:
  endpointSelector: { matchLabels: { app: web } }
  ingress:
    - toPorts: [{ ports: [{ port: "${port}", protocol: TCP }] }]
`;
const bad = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: { name: broken }
spec:
  endpointSelector: {}
  egress:
    - toPorts: [{ ports: [{ port: "99999" }] }]
`;

function applyError(store: PolicyStore, text: string): PolicyError {
  try {
    store.apply(text, { file: 'policies.yaml' });
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('expected a PolicyError');
}

describe('PolicyStore', () => {
  it('applies every document of a YAML text and lists them', () => {
    const store = new PolicyStore();
    const result = store.apply(`${good('a')}---\n${good('b')}`);
    expect(result.created.map((r) => r.name)).toEqual(['a', 'b']);
    expect(store.list().map((p) => p.ref.name)).toEqual(['a', 'b']);
    expect(store.revision).toBe(1);
  });

  it('changes nothing when one document of an apply is invalid, and says which and where', () => {
    const store = new PolicyStore();
    store.apply(good('a'));
    const before = store.list();
    const error = applyError(store, `${good('a', '443')}---\n${good('c')}---\n${bad}`);
    expect(error.message).toBe(
      'policies.yaml: CiliumNetworkPolicy broken: spec.egress[0].toPorts[0].ports[0].port: 99999 is not a port; expected 0-65535 or a port name',
    );
    expect(store.list()).toEqual(before);
    expect(store.revision).toBe(1);
  });

  it('refuses invalid YAML as a whole', () => {
    const store = new PolicyStore();
    expect(applyError(store, 'kind: [').reason).toMatch(/^invalid YAML/);
    expect(store.list()).toEqual([]);
  });

  it('refuses the same policy twice in one apply', () => {
    expect(applyError(new PolicyStore(), `${good('a')}---\n${good('a')}`).reason).toBe('also defined in document 1');
  });

  it('replaces a policy applied again under the same name', () => {
    const store = new PolicyStore();
    store.apply(good('a', '80'));
    const result = store.apply(good('a', '443'));
    expect(result.configured.map((r) => r.name)).toEqual(['a']);
    expect(store.list()).toHaveLength(1);
    expect(store.list()[0]!.rules[0]!.ingress[0]!.ports[0]!.port).toBe(443);
  });

  it('deletes policies, and deletes nothing when one is unknown', () => {
    const store = new PolicyStore();
    store.apply(`${good('a')}---\n${good('b')}`);
    const a = { kind: 'CiliumNetworkPolicy' as const, namespace: 'default', name: 'a' };
    expect(() => store.delete([a, { ...a, name: 'zzz' }])).toThrow(/CiliumNetworkPolicy default\/zzz: not found/);
    expect(store.list()).toHaveLength(2);
    store.delete([a]);
    expect(store.list().map((p) => p.ref.name)).toEqual(['b']);
  });
});
