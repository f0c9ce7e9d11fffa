import { DirectoryKubeStore } from '@tycho/kube';
import { API_USAGE, parseApiFlags } from './apiFlags.ts';
import { startTychoApi } from './apiServer.ts';

const parsed = parseApiFlags(process.argv.slice(2));
if (parsed.kind === 'help') {
  process.stdout.write(API_USAGE);
  process.exit(0);
}
if (parsed.kind === 'error') {
  process.stderr.write(`tycho-api: ${parsed.message}\n\n${API_USAGE}`);
  process.exit(2);
}
const config = parsed.config;

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
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
