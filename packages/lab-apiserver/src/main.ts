// tycho-lab-apiserver: the lab's test double of kube-apiserver as a process.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { z } from 'zod';

import { createLabApiServer } from './httpServer.ts';
import { createObjectStore } from './objectStore.ts';
import { DataDirError } from './persistence.ts';
import { createResourceRegistry } from './resourceRegistry.ts';

const usage = `Usage: tycho-lab-apiserver --listen HOST:PORT --data-dir DIR [--tls-cert FILE --tls-key FILE]

The Tycho lab's test double of kube-apiserver (no kube-apiserver can be installed on lab machines):
Kubernetes REST, watch, discovery, patches, server-side apply and Table output that kubectl accepts.
State is kept in DIR (a snapshot and a write log) and survives a restart.

  --listen HOST:PORT   address to serve on, e.g. 127.0.0.1:6443 (port 0 picks a free one)
  --data-dir DIR       where the state is kept
  --tls-cert FILE      serve HTTPS with this PEM certificate (needs --tls-key)
  --tls-key FILE       the certificate's PEM private key
  --help               show this text
`;

const flagsSchema = z
  .object({
    listen: z.string({ error: '--listen is required (HOST:PORT, e.g. 127.0.0.1:6443)' }).regex(/^[^:]+:\d{1,5}$/, '--listen must be HOST:PORT, e.g. 127.0.0.1:6443'),
    'data-dir': z.string({ error: '--data-dir is required (a directory for the state)' }).min(1, '--data-dir must not be empty'),
    'tls-cert': z.string().optional(),
    'tls-key': z.string().optional(),
  })
  .refine((flags) => (flags['tls-cert'] === undefined) === (flags['tls-key'] === undefined), { message: '--tls-cert and --tls-key go together' });

function fail(message: string): never {
  process.stderr.write(`tycho-lab-apiserver: ${message}\n${usage}`);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  values = parseArgs({
    options: { listen: { type: 'string' }, 'data-dir': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  }).values;
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const parsed = flagsSchema.safeParse(values);
if (!parsed.success) fail(parsed.error.issues[0]?.message ?? 'invalid flags');
const flags = parsed.data;
const separator = flags.listen.lastIndexOf(':');
const host = flags.listen.slice(0, separator);
const port = Number(flags.listen.slice(separator + 1));
if (port > 65535) fail(`--listen port ${port} is out of range (0-65535)`);

let store: ReturnType<typeof createObjectStore>;
try {
  store = createObjectStore({ registry: createResourceRegistry(), dataDir: flags['data-dir'] });
} catch (error) {
  if (error instanceof DataDirError) fail(error.message);
  throw error;
}
const readPem = (file: string, flag: string) => {
  try {
    return readFileSync(file);
  } catch (error) {
    return fail(`${flag} ${file}: ${(error as Error).message}`);
  }
};
const tls = flags['tls-cert'] && flags['tls-key'] ? { cert: readPem(flags['tls-cert'], '--tls-cert'), key: readPem(flags['tls-key'], '--tls-key') } : undefined;
const server = createLabApiServer(tls ? { store, tls } : { store });
try {
  const address = await server.listen(port, host);
  process.stdout.write(`tycho-lab-apiserver: serving on ${tls ? 'https' : 'http'}://${host}:${address.port} (resourceVersion ${store.resourceVersion}, data in ${flags['data-dir']})\n`);
} catch (error) {
  fail(`cannot listen on ${flags.listen}: ${(error as Error).message}`);
}

async function shutdown(): Promise<void> {
  await server.close();
  await store.flushed();
  store.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
