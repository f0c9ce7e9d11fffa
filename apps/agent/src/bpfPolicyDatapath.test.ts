// The agent's policy writer against the real maps of bpf_lxc.o (loaded with
// a private pin dir; no program is attached anywhere).
import { randomBytes } from 'node:crypto';
import { BpfObject, DEFAULT_OBJECT_PATH, NodeDatapath, PolicyMaps, type PolicyKey } from '@tycho/datapath';
import type { Identity, PolicyMapKey, PolicyRef } from '@tycho/policy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBpfPolicyDatapath } from './bpfPolicyDatapath.ts';

const ALLOWED: PolicyRef = { kind: 'CiliumNetworkPolicy', namespace: 'default', name: 'pod-to-a-allowed-cnp' };
const DENYING: PolicyRef = { kind: 'CiliumClusterwideNetworkPolicy', namespace: '', name: 'no-ssh' };

const pinDir = `/sys/fs/bpf/tycho-test-${randomBytes(4).toString('hex')}`;
let object: BpfObject;
let maps: PolicyMaps;

beforeAll(() => {
  object = BpfObject.open(DEFAULT_OBJECT_PATH, { pinRoot: pinDir });
  maps = PolicyMaps.open(pinDir);
});

afterAll(() => {
  maps?.close();
  object?.close();
  NodeDatapath.removePins(pinDir);
});

function clear<K>(map: { keys(): Iterable<K>; delete(key: K): boolean }): void {
  for (const key of [...map.keys()]) map.delete(key);
}

beforeEach(() => {
  clear(maps.policy);
  clear(maps.endpoints);
  clear(maps.ipcache);
});

const mapKey = (overrides: Partial<PolicyMapKey>): PolicyMapKey => ({
  direction: 'egress', identity: 300, protocol: 6, port: 8080, prefixLen: 24, deny: false, policies: [ALLOWED], ...overrides,
});

function policyEntries(): [PolicyKey, { deny: boolean; policyList: number }][] {
  const order = (k: PolicyKey) => `${k.endpointId}/${k.direction}/${k.identity}/${k.prefixLen}/${k.port}`;
  return [...maps.policy.entries()].sort(([a], [b]) => order(a).localeCompare(order(b)));
}

const cidrIdentity = (id: number, prefix: string): Identity => ({ id, labels: [`cidr:${prefix}`, 'reserved:world'] });

describe('createBpfPolicyDatapath', () => {
  it("writes an endpoint's keys with its id and direction, numbering each distinct policy list, and its flags", () => {
    const datapath = createBpfPolicyDatapath(maps);
    datapath.setEndpointPolicy(7, 'egress', {
      enforced: true,
      needsLookup: true,
      keys: [
        mapKey({}),
        mapKey({ identity: 301, port: 8000, prefixLen: 19 }),
        mapKey({ identity: 0, protocol: 6, port: 22, deny: true, policies: [DENYING] }),
      ],
    });
    expect(policyEntries()).toEqual([
      [{ endpointId: 7, direction: 'egress', identity: 0, protocol: 6, port: 22, prefixLen: 24 }, { deny: true, policyList: 2 }],
      [{ endpointId: 7, direction: 'egress', identity: 300, protocol: 6, port: 8080, prefixLen: 24 }, { deny: false, policyList: 1 }],
      [{ endpointId: 7, direction: 'egress', identity: 301, protocol: 6, port: 8000, prefixLen: 19 }, { deny: false, policyList: 1 }],
    ]);
    expect(maps.endpoints.get(7)).toEqual({ ingress: { enforced: false, needsLookup: false }, egress: { enforced: true, needsLookup: true } });
  });

  it('a new state for a direction replaces its keys and leaves the other direction alone', () => {
    const datapath = createBpfPolicyDatapath(maps);
    datapath.setEndpointPolicy(7, 'ingress', { enforced: true, needsLookup: true, keys: [mapKey({ direction: 'ingress', identity: 1 })] });
    datapath.setEndpointPolicy(7, 'egress', { enforced: true, needsLookup: true, keys: [mapKey({})] });
    datapath.setEndpointPolicy(7, 'egress', { enforced: true, needsLookup: true, keys: [mapKey({ identity: 302 })] });
    expect(policyEntries().map(([key]) => [key.direction, key.identity])).toEqual([['egress', 302], ['ingress', 1]]);
    datapath.setEndpointPolicy(7, 'egress', { enforced: false, needsLookup: false, keys: [] });
    expect(policyEntries().map(([key]) => [key.direction, key.identity])).toEqual([['ingress', 1]]);
    expect(maps.endpoints.get(7)).toEqual({ ingress: { enforced: true, needsLookup: true }, egress: { enforced: false, needsLookup: false } });
  });

  it('removing an endpoint removes its keys and flags only', () => {
    const datapath = createBpfPolicyDatapath(maps);
    datapath.setEndpointPolicy(7, 'egress', { enforced: true, needsLookup: true, keys: [mapKey({})] });
    datapath.setEndpointPolicy(8, 'egress', { enforced: true, needsLookup: true, keys: [mapKey({})] });
    datapath.removeEndpoint(7);
    expect(policyEntries().map(([key]) => key.endpointId)).toEqual([8]);
    expect([...maps.endpoints.keys()]).toEqual([8]);
  });

  it("a restarted agent's writer removes what the last one left for an endpoint at its first write", () => {
    createBpfPolicyDatapath(maps).setEndpointPolicy(7, 'egress', { enforced: true, needsLookup: true, keys: [mapKey({}), mapKey({ identity: 301 })] });
    createBpfPolicyDatapath(maps).setEndpointPolicy(7, 'egress', { enforced: true, needsLookup: true, keys: [mapKey({ identity: 301 })] });
    expect(policyEntries().map(([key]) => key.identity)).toEqual([301]);
  });

  it('puts CIDR identities and pod and node addresses in the ipcache; a host /32 wins over a CIDR /32', () => {
    const datapath = createBpfPolicyDatapath(maps);
    datapath.updateCidrIdentities(
      [cidrIdentity(16777217, '192.0.2.0/24'), cidrIdentity(16777218, '10.244.0.8/32'), cidrIdentity(16777219, 'fd00::/64')],
      [],
    );
    datapath.updateHostAddresses([
      { address: '10.244.0.8', identity: 300, local: true },
      { address: '172.18.0.3', identity: 6, local: false },
    ]);
    const ipcache = () => Object.fromEntries([...maps.ipcache.entries()].map(([key, entry]) => [`${key.address}/${key.prefixLen}`, entry]));
    expect(ipcache()).toEqual({
      '192.0.2.0/24': { identity: 16777217, local: false },
      '10.244.0.8/32': { identity: 300, local: true },
      '172.18.0.3/32': { identity: 6, local: false },
    });
    datapath.updateCidrIdentities([], [cidrIdentity(16777217, '192.0.2.0/24')]);
    datapath.updateHostAddresses([{ address: '172.18.0.3', identity: 6, local: false }]);
    expect(ipcache()).toEqual({ '10.244.0.8/32': { identity: 16777218, local: false }, '172.18.0.3/32': { identity: 6, local: false } });
  });
});
