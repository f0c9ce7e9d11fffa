import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Paths the echo server answers 200 on, like cilium/json-mock's data set. */
const DOCUMENTS: Readonly<Record<string, unknown>> = {
  '/': { service: 'json-mock', paths: ['/public', '/private'] },
  '/public': [{ id: 1, body: 'public information' }],
  '/private': [{ id: 1, body: 'private information' }],
};

/**
 * The stand-in for cilium/json-mock: HTTP on `port`, 200 with a small JSON
 * document on `/` (the echo servers' own readiness probe fetches it),
 * `/public` and `/private`, 404 otherwise.
 */
export async function startEchoServer(opts: { host?: string; port: number; name: string }): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const doc = DOCUMENTS[path];
    const body = JSON.stringify(doc ?? { error: 'not found', path });
    res.writeHead(doc ? 200 : 404, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-served-by': opts.name,
    });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, server };
}
