import { afterEach, describe, expect, it, vi } from 'vitest';

import { createClusterInformers, type ClusterEvent, type ClusterInformersOptions } from './clusterInformers.ts';
import { createCiliumCrds, pod, startTestApiServer, type TestApiServer } from './labApiServer.fixture.ts';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(): Promise<TestApiServer> {
  const started = await startTestApiServer();
  cleanups.push(() => started.close());
  return started;
}

async function informers(api: TestApiServer, options: Partial<ClusterInformersOptions> = {}) {
  const errors: string[] = [];
  const set = createClusterInformers({ kubeConfig: await api.kubeConfig(), backoff: { initialMs: 5, maxMs: 20 }, onError: (resource, error) => errors.push(`${resource}: ${error.message}`), ...options });
  cleanups.push(() => set.close());
  return { set, errors };
}

function policy(kind: 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy', name: string, namespace?: string) {
  return { apiVersion: 'cilium.io/v2', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec: { endpointSelector: { matchLabels: { app: name } }, ingress: [{}] } };
}

function endpointSlice(name: string, service: string) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.7'], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

/** One object of every kind Tycho informs about, plus a pod on another node. */
function seedCluster(api: TestApiServer): void {
  const { store } = api;
  createCiliumCrds(store);
  store.create(api.resource('', 'v1', 'nodes'), '', { metadata: { name: 'node-a' }, spec: { podCIDR: '10.244.0.0/24' } });
  store.create(api.resource('', 'v1', 'pods'), 'default', pod('on-a', { nodeName: 'node-a' }));
  store.create(api.resource('', 'v1', 'pods'), 'default', pod('on-b', { nodeName: 'node-b' }));
  store.create(api.resource('', 'v1', 'services'), 'default', { metadata: { name: 'echo' }, spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } });
  store.create(api.resource('discovery.k8s.io', 'v1', 'endpointslices'), 'default', endpointSlice('echo-1', 'echo'));
  store.create(api.resource('networking.k8s.io', 'v1', 'networkpolicies'), 'default', { metadata: { name: 'deny' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });
  store.create(api.resource('cilium.io', 'v2', 'ciliumnetworkpolicies'), 'default', policy('CiliumNetworkPolicy', 'allow-web', 'default'));
  store.create(api.resource('cilium.io', 'v2', 'ciliumclusterwidenetworkpolicies'), '', policy('CiliumClusterwideNetworkPolicy', 'cluster-web'));
}

describe('createClusterInformers', () => {
  it('lists every kind Tycho reads into one synced set, with the pods of its own node only', async () => {
    const api = await server();
    seedCluster(api);
    const { set } = await informers(api, { nodeName: 'node-a' });
    await set.synced;
    expect(set.hasSynced).toBe(true);
    expect(set.unsynced()).toEqual([]);
    const names = (resource: Parameters<typeof set.informer>[0]) => set.informer(resource).list().map((object) => object.metadata?.name).sort();
    expect(names('pods')).toEqual(['on-a']);
    expect(names('nodes')).toEqual(['node-a']);
    expect(names('namespaces')).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(names('services')).toEqual(['echo', 'kubernetes']);
    expect(names('endpointSlices')).toEqual(['echo-1']);
    expect(names('networkPolicies')).toEqual(['deny']);
    expect(names('ciliumNetworkPolicies')).toEqual(['allow-web']);
    expect(names('ciliumClusterwideNetworkPolicies')).toEqual(['cluster-web']);
    expect(set.informer('nodes').get('', 'node-a')?.spec?.podCIDR).toBe('10.244.0.0/24');
    expect(set.informer('endpointSlices').get('default', 'echo-1')?.endpoints[0]?.addresses).toEqual(['10.244.0.7']);
  });

  it('reports every kind’s changes on one stream, each tagged with its kind', async () => {
    const api = await server();
    seedCluster(api);
    const { set } = await informers(api, { nodeName: 'node-a' });
    await set.synced;
    const events: ClusterEvent[] = [];
    set.subscribe((event) => events.push(event));
    const { store } = api;
    store.create(api.resource('cilium.io', 'v2', 'ciliumnetworkpolicies'), 'default', policy('CiliumNetworkPolicy', 'second', 'default'));
    store.delete(api.resource('cilium.io', 'v2', 'ciliumclusterwidenetworkpolicies'), '', 'cluster-web');
    store.create(api.resource('discovery.k8s.io', 'v1', 'endpointslices'), 'default', endpointSlice('echo-2', 'echo'));
    store.create(api.resource('', 'v1', 'pods'), 'default', pod('elsewhere', { nodeName: 'node-b' }));
    store.create(api.resource('', 'v1', 'pods'), 'default', pod('here', { nodeName: 'node-a' }));
    await vi.waitFor(() => expect(events.length).toBe(4));
    expect(events.map((event) => `${event.resource} ${event.type} ${event.object.metadata?.name ?? ''}`).sort()).toEqual([
      'ciliumClusterwideNetworkPolicies delete cluster-web',
      'ciliumNetworkPolicies add second',
      'endpointSlices add echo-2',
      'pods add here',
    ]);
    const slice = events.find((event) => event.resource === 'endpointSlices');
    if (slice?.resource === 'endpointSlices') expect(slice.object.metadata?.labels?.['kubernetes.io/service-name']).toBe('echo');
  });

  it('waits for the Cilium CRDs: not synced while their kinds are not served, synced once the CRDs are created', async () => {
    const api = await server();
    const { set, errors } = await informers(api, { resources: ['namespaces', 'ciliumNetworkPolicies', 'ciliumClusterwideNetworkPolicies'] });
    await vi.waitFor(() => expect(set.informer('namespaces').hasSynced).toBe(true));
    await vi.waitFor(() => expect(errors.filter((error) => error.startsWith('ciliumNetworkPolicies: ')).length).toBeGreaterThanOrEqual(2));
    expect(errors.find((error) => error.startsWith('ciliumNetworkPolicies: '))).toMatch(/404/);
    expect(set.hasSynced).toBe(false);
    expect(set.unsynced()).toEqual(['ciliumNetworkPolicies', 'ciliumClusterwideNetworkPolicies']);
    createCiliumCrds(api.store);
    await set.synced;
    expect(set.unsynced()).toEqual([]);
  });

  it('reads namespaced kinds from one namespace when asked, through the namespaced path', async () => {
    const api = await server();
    seedCluster(api);
    api.store.create(api.resource('', 'v1', 'namespaces'), '', { metadata: { name: 'shop' } });
    api.store.create(api.resource('cilium.io', 'v2', 'ciliumnetworkpolicies'), 'shop', policy('CiliumNetworkPolicy', 'shop-web', 'shop'));
    const { set } = await informers(api, { namespace: 'shop', resources: ['ciliumNetworkPolicies', 'ciliumClusterwideNetworkPolicies'] });
    await set.synced;
    expect(set.informer('ciliumNetworkPolicies').list().map((object) => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`)).toEqual(['shop/shop-web']);
    expect(set.informer('ciliumClusterwideNetworkPolicies').list().map((object) => object.metadata?.name)).toEqual(['cluster-web']);
    expect(() => set.informer('pods')).toThrow('cluster informers: pods is not informed about (resources: ciliumNetworkPolicies, ciliumClusterwideNetworkPolicies)');
  });
});
