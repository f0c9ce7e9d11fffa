import { join } from 'node:path';
import { NodeDatapath, NodePortDatapath, PolicyMaps, ServiceDatapath } from '@tycho/datapath';
import { KubeConfigError, loadKubeConfig, type LoadedKubeConfig } from '@tycho/kube';
import { createFlowMetrics } from '@tycho/metrics';
import { startAgent } from './agent.ts';
import { AGENT_USAGE, parseAgentFlags } from './agentFlags.ts';
import { createBpfPolicyDatapath } from './bpfPolicyDatapath.ts';
import { createClusterState } from './clusterState.ts';
import { ServicesController } from './servicesController.ts';

const PAYLOAD_MAX = 256;

const parsed = parseAgentFlags(process.argv.slice(2));
if (parsed.kind === 'help') {
  process.stdout.write(AGENT_USAGE);
}
if (parsed.kind === 'error') {
  const lines = parsed.message.split('\n').map((line) => `tycho-agent: ${line}\n`);
  process.stderr.write(`${lines.join('')}\n${AGENT_USAGE}`);
}
const config = parsed.kind === 'config' ? parsed.config : await exitWhenWritten(parsed.kind === 'help' ? 0 : 2);
const log = (message: string) => console.error(`[agent ${config.nodeName}] ${message}`);

let kube: LoadedKubeConfig;
try {
  kube = await loadKubeConfig(config.kubeconfig === undefined ? {} : { kubeconfigPath: config.kubeconfig });
} catch (err) {
  if (!(err instanceof KubeConfigError)) throw err;
  process.stderr.write(`tycho-agent: ${err.message}\n`);
  kube = await exitWhenWritten(2);
}
log(`Kubernetes API ${kube.server} (from ${kube.from})`);
const cluster = createClusterState({ kubeConfig: kube.kubeConfig, nodeName: config.nodeName, log });

const datapath = NodeDatapath.open({
  pinDir: config.pinDir,
  config: { reportIntervalNs: config.reportIntervalMs * 1e6, l7Ports: config.l7Ports, payloadMax: PAYLOAD_MAX },
});
// Policy enforcement: the ipcache, policy and per-endpoint policy maps that
// NodeDatapath.open just pinned (bpf/lib/policy.h).
const policyMaps = PolicyMaps.open(config.pinDir);
// Socket-level service load-balancing at the node's cgroup: every pod and
// host-network process of the node is below it.
const serviceDatapath = config.cgroup ? ServiceDatapath.open({ pinDir: config.pinDir }) : undefined;
// Per-packet service translation on the node's uplink (bpf_host.c): it shares
// the lb maps just pinned and NodeDatapath's event ring buffer.
const nodePortDatapath = serviceDatapath && config.lbDevice ? NodePortDatapath.open({ pinDir: config.pinDir }) : undefined;
const services =
  serviceDatapath && config.cgroup
    ? new ServicesController({
        nodeName: config.nodeName,
        store: cluster.view,
        datapath: serviceDatapath,
        kubeProxyReplacement: {
          socketLB: true,
          cgroup: config.cgroup,
          nodePortFromOutside: nodePortDatapath !== undefined,
          ...(nodePortDatapath && config.lbDevice ? { lbDevice: config.lbDevice, lbAlgorithm: config.lbAlgorithm } : {}),
        },
        // Maglev tables serve only the per-packet path: none without --lb-device.
        lbAlgorithm: nodePortDatapath ? config.lbAlgorithm : 'random',
        maglevTableSize: config.maglevTableSize,
        stateFile: join(config.stateDir, 'services.json'),
        log,
      })
    : undefined;
if (services && serviceDatapath && config.cgroup) {
  // Maps first, so the programs never see a half-programmed node; and from the synced caches,
  // or the first write would empty the maps a previous agent left serving.
  await cluster.synced;
  services.sync();
  try {
    serviceDatapath.attach(config.cgroup);
  } catch (err) {
    process.stderr.write(`tycho-agent: --cgroup ${config.cgroup}: cannot attach the socket load-balancer: ${(err as Error).message}\n`);
    await exitWhenWritten(1);
  }
  if (nodePortDatapath && config.lbDevice) {
    try {
      nodePortDatapath.attach(config.lbDevice);
    } catch (err) {
      process.stderr.write(`tycho-agent: --lb-device ${config.lbDevice}: cannot attach the node-port load-balancer: ${(err as Error).message}\n`);
      await exitWhenWritten(1);
    }
  }
}
const agent = await startAgent({
  nodeName: config.nodeName,
  socketPath: config.socketPath,
  stateDir: config.stateDir,
  cluster,
  ringCapacity: config.ringCapacity,
  datapath,
  policyDatapath: createBpfPolicyDatapath(policyMaps),
  ...(services ? { services } : {}),
  ...(config.metrics ? { metrics: { flowMetrics: createFlowMetrics(config.metrics.options), listen: config.metrics.listen } } : {}),
});

async function shutdown(signal: string): Promise<void> {
  console.error(`[agent ${config.nodeName}] ${signal}: stopping (datapath programs stay attached)`);
  await agent.stop();
  await cluster.close();
  services?.close();
  nodePortDatapath?.close();
  serviceDatapath?.close();
  policyMaps.close();
  datapath.close();
  await exitWhenWritten(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

/**
 * Exits once stdout and stderr have handed everything written to the kernel:
 * writes to a pipe are asynchronous and `process.exit` would drop the rest
 * (`tycho-agent --help | less`). Never resolves, so nothing after an `await` of it runs.
 */
function exitWhenWritten(code: number): Promise<never> {
  return new Promise(() => process.stdout.write('', () => process.stderr.write('', () => process.exit(code))));
}
