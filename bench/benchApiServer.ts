// The bench node's Kubernetes API: the lab's API server double in this process (so a bench
// writes cluster objects as fast as a store call, as the lab's writer does), reachable from the
// node namespace, where the agent runs, at 127.0.0.1:6443. A network namespace cannot reach
// another's loopback, and the machine's own interfaces stay as they are, so the bridge is a unix
// socket (file-system, not network-namespace, bound): a forwarder process listening on the
// node's loopback passes each connection through it to this process, which passes it on to the
// server's port.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { kubeConfigForServer } from '@tycho/kube';
import { createCiliumCrds, startTestApiServer } from '@tycho/kube/labApiServer.fixture';
import type { KubeObject } from '@tycho/lab-apiserver';
import type { BenchmarkContext } from './benchmark.ts';
import { inNetns } from './systemCommand.ts';

/** Where the agent finds the API server in its node namespace. */
const NODE_SIDE_ADDRESS = { host: '127.0.0.1', port: 6443 } as const;

/** One connection spliced to another; either side closing or failing closes both. */
function splice(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
}

const FORWARDER = `const net = require('node:net');
const [socketPath, host, port] = process.argv.slice(1);
net.createServer((c) => { const u = net.connect(socketPath); c.pipe(u).pipe(c); const end = () => { c.destroy(); u.destroy(); }; for (const s of [c, u]) s.on('error', end).on('close', end); })
  .listen(Number(port), host, () => process.stdout.write('listening\\n'));`;

export async function startBenchApiServer(ctx: BenchmarkContext, options: { runDir: string; netns: string; nodeName: string; podCidr: string }) {
  const api = await startTestApiServer();
  ctx.defer(() => api.close());
  createCiliumCrds(api.store);
  const resource = (kind: string) => {
    const [group, version, plural] = (
      {
        Node: ['', 'v1', 'nodes'],
        Namespace: ['', 'v1', 'namespaces'],
        Pod: ['', 'v1', 'pods'],
        CiliumNetworkPolicy: ['cilium.io', 'v2', 'ciliumnetworkpolicies'],
      } as Record<string, [string, string, string]>
    )[kind] ?? ['', '', kind];
    return api.resource(group, version, plural);
  };

  const socketPath = join(options.runDir, 'apiserver.sock');
  const bridge = createServer((client) => splice(client, connect(api.port, '127.0.0.1')));
  await new Promise<void>((resolve) => bridge.listen(socketPath, resolve));
  ctx.defer(() => new Promise<void>((resolve) => bridge.close(() => resolve())));
  const argv = inNetns(options.netns, [process.execPath, '-e', FORWARDER, socketPath, NODE_SIDE_ADDRESS.host, String(NODE_SIDE_ADDRESS.port)]);
  const forwarder = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  ctx.defer(() => {
    if (forwarder.exitCode === null && forwarder.signalCode === null) forwarder.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    forwarder.stdout!.once('data', () => resolve());
    forwarder.once('exit', (code) => reject(new Error(`the API server forwarder in ${options.netns} exited with ${code}`)));
  });

  const kubeconfig = join(options.runDir, 'kubeconfig-node');
  writeFileSync(kubeconfig, (await kubeConfigForServer(`http://${NODE_SIDE_ADDRESS.host}:${NODE_SIDE_ADDRESS.port}`)).exportConfig());

  /** Creates the object, or replaces the stored one of its name; the stored object (with its resourceVersion). */
  function put(object: KubernetesObject): KubeObject {
    const kind = resource(object.kind ?? '');
    const namespace = kind.namespaced ? (object.metadata?.namespace ?? 'default') : '';
    const name = object.metadata?.name ?? '';
    const current = api.store.tryGet(kind, namespace, name);
    const body = object as unknown as KubeObject;
    if (!current) return api.store.create(kind, namespace, body);
    return api.store.update(kind, namespace, name, { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } });
  }

  put({ apiVersion: 'v1', kind: 'Node', metadata: { name: options.nodeName }, spec: { podCIDR: options.podCidr } } as KubernetesObject);
  return {
    /** The kubeconfig the agent in the node namespace reads. */
    kubeconfig,
    /** The server's URL from this (the root) namespace. */
    url: api.url,
    put,
    /** Deletes an object; the stored deletion (its resourceVersion is the delete's). */
    remove(kind: string, namespace: string, name: string): KubeObject {
      const found = resource(kind);
      return api.store.delete(found, found.namespaced ? namespace : '', name);
    },
  } as const;
}

export type BenchApiServer = Awaited<ReturnType<typeof startBenchApiServer>>;
