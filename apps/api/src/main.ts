import { KubeConfigError, loadKubeConfig } from '@tycho/kube';
import { createApiCluster } from './apiCluster.ts';
import { API_USAGE, parseApiFlags } from './apiFlags.ts';
import { startTychoApi } from './apiServer.ts';

const parsed = parseApiFlags(process.argv.slice(2));
if (parsed.kind === 'help') {
  process.stdout.write(API_USAGE);
}
if (parsed.kind === 'error') {
  process.stderr.write(`tycho-api: ${parsed.message}\n\n${API_USAGE}`);
}
const config = parsed.kind === 'config' ? parsed.config : await exitWhenWritten(parsed.kind === 'help' ? 0 : 2);

const log = (line: string) => console.error(`[api] ${line}`);
// --kubeconfig must work; without it a Kubernetes API found the usual ways is used, and none is no error.
let kube: Awaited<ReturnType<typeof loadKubeConfig>> | undefined;
try {
  kube = await loadKubeConfig(config.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubeconfig });
} catch (err) {
  if (!(err instanceof KubeConfigError)) throw err;
  if (config.kubeconfig !== undefined) {
    process.stderr.write(`tycho-api: ${err.message}\n`);
    await exitWhenWritten(2);
  }
  log(`no Kubernetes API (${err.message}): namespaces come from flows only, GET /api/v1/policies answers 503`);
}
if (kube) log(`Kubernetes API ${kube.server} (from ${kube.from})`);
const cluster = kube ? createApiCluster({ kubeConfig: kube.kubeConfig, log }) : undefined;

const api = await startTychoApi({
  port: config.port,
  host: config.host,
  agents: config.agents,
  webDir: config.webDir,
  ...(config.socketDir !== undefined ? { socketDir: config.socketDir } : {}),
  ...(cluster ? { kube: cluster } : {}),
});
console.error(`[api] listening on ${config.host}:${api.port}; open ${api.url}`);

async function shutdown(signal: string): Promise<void> {
  console.error(`[api] ${signal}: stopping`);
  await api.close();
  await cluster?.close();
  await exitWhenWritten(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

/**
 * Exits once stdout and stderr have handed everything written to the kernel:
 * writes to a pipe are asynchronous and `process.exit` would drop the rest
 * (`tycho-api --help | less`). Never resolves, so nothing after an `await` of it runs.
 */
function exitWhenWritten(code: number): Promise<never> {
  return new Promise(() => process.stdout.write('', () => process.stderr.write('', () => process.exit(code))));
}
