// The lab's kube-apiserver double on loopback for this package's tests: started, stopped and
// restarted on the same port (with or without its data), with the cluster's writes made on its
// store directly so a test can write while no server is listening.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';

import { loadAllYaml, type KubeConfig } from '@kubernetes/client-node';
import { createLabApiServer, createObjectStore, createResourceRegistry, type KubeObject, type LabApiServer, type ObjectStore } from '@tycho/lab-apiserver';

import { kubeConfigForServer } from './kubeConfig.ts';

export interface TestApiServerOptions {
  port?: number;
  dataDir?: string;
  historyCapacity?: number;
  bookmarkIntervalMs?: number;
}

/** A port nothing listens on (just released by the kernel), for a server that starts later. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The definitions of Cilium's custom resources the lab API server ships, created as kubectl apply would. */
export function createCiliumCrds(store: ObjectStore): void {
  const crdResource = store.registry.find('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
  if (!crdResource) throw new Error('the registry has no customresourcedefinitions');
  for (const file of ['cilium.io_ciliumnetworkpolicies.yaml', 'cilium.io_ciliumclusterwidenetworkpolicies.yaml', 'cilium.io_ciliumidentities.yaml']) {
    const text = readFileSync(new URL(`../../lab-apiserver/crds/${file}`, import.meta.url), 'utf8');
    for (const crd of loadAllYaml(text) as KubeObject[]) {
      if (!store.tryGet(crdResource, '', crd.metadata.name ?? '')) store.create(crdResource, '', crd);
    }
  }
}

export async function startTestApiServer(options: TestApiServerOptions = {}) {
  let store: ObjectStore = createObjectStore({
    registry: createResourceRegistry(),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.historyCapacity ? { historyCapacity: options.historyCapacity } : {}),
  });
  let server: LabApiServer | undefined;
  let port = options.port ?? 0;
  /** Requests by kind, to tell a relist from a resumed watch, and 409 answers. */
  const requests = { lists: 0, watches: 0, conflicts: 0 };
  const sockets = new Set<Socket>();

  async function listen(): Promise<void> {
    const started = createLabApiServer({ store, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000, log: () => {} });
    started.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    started.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      response.on('finish', () => {
        if (response.statusCode === 409) requests.conflicts += 1;
      });
      const url = new URL(request.url ?? '/', 'http://server');
      if (request.method !== 'GET' || !/\/(api|apis)\//.test(url.pathname)) return;
      if (url.searchParams.get('watch') === 'true') requests.watches += 1;
      else requests.lists += 1;
    });
    port = (await started.listen(port, '127.0.0.1')).port;
    server = started;
  }
  await listen();

  function resource(group: string, version: string, plural: string) {
    const found = store.registry.find(group, version, plural);
    if (!found) throw new Error(`the lab API server serves no ${group}/${version} ${plural}`);
    return found;
  }

  return {
    get store(): ObjectStore {
      return store;
    },
    get port(): number {
      return port;
    },
    get url(): string {
      return `http://127.0.0.1:${port}`;
    },
    get watchCount(): number {
      return server?.watchCount ?? 0;
    },
    requests,
    kubeConfig(): Promise<KubeConfig> {
      return kubeConfigForServer(`http://127.0.0.1:${port}`);
    },
    resource,
    /** Cuts every open connection, watches included, as a network failure would; the server keeps listening. */
    cutConnections(): void {
      for (const socket of sockets) socket.destroy();
    },
    /** Stops listening; the store stays, so the test may write while the server is down. */
    async stop(): Promise<void> {
      await server?.close();
      server = undefined;
    },
    /** Listens again on the same port, with the same store. */
    start: listen,
    /** Stops, closes the store, opens a new one from the same data directory and listens on the same port: a restart of the process. */
    async restartFromDisk(): Promise<void> {
      if (!options.dataDir) throw new Error('restartFromDisk needs a dataDir');
      await server?.close();
      server = undefined;
      await store.flushed();
      store.close();
      store = createObjectStore({ registry: createResourceRegistry(), dataDir: options.dataDir, ...(options.historyCapacity ? { historyCapacity: options.historyCapacity } : {}) });
      await listen();
    },
    async close(): Promise<void> {
      await server?.close();
      server = undefined;
      await store.flushed();
      store.close();
    },
  } as const;
}

export type TestApiServer = Awaited<ReturnType<typeof startTestApiServer>>;

export function pod(name: string, options: { namespace?: string; labels?: Record<string, string>; nodeName?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: options.namespace ?? 'default', labels: options.labels ?? {} },
    spec: { ...(options.nodeName ? { nodeName: options.nodeName } : {}), containers: [{ name: 'main', image: 'echo' }] },
  };
}
