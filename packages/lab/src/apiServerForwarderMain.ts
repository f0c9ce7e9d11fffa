// Runs inside tycho-underlay: accepts the nodes' connections to the API server on the
// underlay gateway address and pipes each to the API server's unix socket (unix sockets
// cross network namespaces; the root namespace's loopback does not).
import { connect, createServer } from 'node:net';

const [listen, socketPath] = process.argv.slice(2);
if (!listen || !socketPath || !/^[^:]+:\d+$/.test(listen)) {
  process.stderr.write('usage: apiServerForwarderMain.ts HOST:PORT UNIX_SOCKET\n');
  process.exit(2);
}
const separator = listen.lastIndexOf(':');

const forwarder = createServer((client) => {
  const upstream = connect(socketPath);
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
});
forwarder.listen(Number(listen.slice(separator + 1)), listen.slice(0, separator), () => {
  process.stdout.write(`lab apiserver forwarder: ${listen} -> ${socketPath}\n`);
});
process.on('SIGTERM', () => forwarder.close(() => process.exit(0)));
