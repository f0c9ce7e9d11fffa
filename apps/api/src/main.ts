import { DirectoryKubeStore } from '@tycho/kube';
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

const api = await startTychoApi({
  port: config.port,
  host: config.host,
  agents: config.agents,
  webDir: config.webDir,
  ...(config.socketDir !== undefined ? { socketDir: config.socketDir } : {}),
  ...(config.kubeDir !== undefined ? { kube: new DirectoryKubeStore(config.kubeDir) } : {}),
});
console.error(`[api] listening on ${config.host}:${api.port}; open ${api.url}`);

async function shutdown(signal: string): Promise<void> {
  console.error(`[api] ${signal}: stopping`);
  await api.close();
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
