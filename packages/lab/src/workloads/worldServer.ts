import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The simulated Internet's web servers, run in `tycho-world`: every world
 * host answers 200 with a small JSON body naming itself. Port 443 speaks plain
 * HTTP (the lab has no TLS).
 */
export async function startWorldServer(opts: {
  host?: string;
  ports: readonly number[];
  nameOf: (localAddress: string) => string | undefined;
}): Promise<{ ports: number[]; servers: Server[] }> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (const port of opts.ports) {
    const server = createServer((req, res) => {
      const local = req.socket.localAddress?.replace(/^::ffff:/, '') ?? '';
      const body = JSON.stringify({ host: opts.nameOf(local) ?? local, path: req.url, world: true });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, opts.host ?? '0.0.0.0', () => resolve());
    });
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
  return { ports, servers };
}
