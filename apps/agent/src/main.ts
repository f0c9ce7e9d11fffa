import { NodeDatapath } from '@tycho/datapath';
import { createFlowMetrics } from '@tycho/metrics';
import { startAgent } from './agent.ts';
import { AGENT_USAGE, parseAgentFlags } from './agentFlags.ts';

const PAYLOAD_MAX = 256;

const parsed = parseAgentFlags(process.argv.slice(2));
if (parsed.kind === 'help') {
  process.stdout.write(AGENT_USAGE);
  process.exit(0);
}
if (parsed.kind === 'error') {
  const lines = parsed.message.split('\n').map((line) => `tycho-agent: ${line}\n`);
  process.stderr.write(`${lines.join('')}\n${AGENT_USAGE}`);
  process.exit(2);
}
const config = parsed.config;

const datapath = NodeDatapath.open({
  pinDir: config.pinDir,
  config: { reportIntervalNs: config.reportIntervalMs * 1e6, l7Ports: config.l7Ports, payloadMax: PAYLOAD_MAX },
});
const agent = await startAgent({
  nodeName: config.nodeName,
  socketPath: config.socketPath,
  stateDir: config.stateDir,
  kubeDir: config.kubeDir,
  ringCapacity: config.ringCapacity,
  datapath,
  ...(config.metrics ? { metrics: { flowMetrics: createFlowMetrics(config.metrics.options), listen: config.metrics.listen } } : {}),
});

async function shutdown(signal: string): Promise<void> {
  console.error(`[agent ${config.nodeName}] ${signal}: stopping (datapath programs stay attached)`);
  await agent.stop();
  datapath.close();
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
