// The lab's kube-apiserver double as the lab runs it: one store, served with TLS on
// 127.0.0.1:6443 in the root network namespace and on a unix socket, which the
// underlay's forwarder (apiServerForwarderMain.ts) pipes the nodes' connections to.
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { createLabApiServer, createObjectStore, createResourceRegistry } from '@tycho/lab-apiserver';

const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    'unix-socket': { type: 'string' },
    'data-dir': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
  },
  strict: true,
});
function required(flag: keyof typeof values): string {
  const value = values[flag];
  if (!value) {
    process.stderr.write(`lab apiserver: --${flag} is required\n`);
    process.exit(2);
  }
  return value;
}
const listen = required('listen');
const separator = listen.lastIndexOf(':');
const socketPath = required('unix-socket');

const store = createObjectStore({ registry: createResourceRegistry(), dataDir: required('data-dir') });
const api = createLabApiServer({ store, tls: { cert: readFileSync(required('tls-cert')), key: readFileSync(required('tls-key')) } });
await api.listen(Number(listen.slice(separator + 1)), listen.slice(0, separator));
// A connection on the socket is handed to the HTTPS server as if it had arrived on its TCP port.
rmSync(socketPath, { force: true });
const unixListener = createServer((socket) => api.server.emit('connection', socket));
await new Promise<void>((resolve) => unixListener.listen(socketPath, resolve));
process.stdout.write(`lab apiserver: serving https://${listen} and ${socketPath} (resourceVersion ${store.resourceVersion})\n`);

async function shutdown(): Promise<void> {
  unixListener.close();
  await api.close();
  await store.flushed();
  store.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
