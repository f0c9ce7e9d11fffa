import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { LabNode } from './nodes.ts';
import { agentSocket, CNI_PLUGIN, ipamDir, NETNS_DIR, REPO_ROOT } from './paths.ts';
import { inNetns, runCommand } from './systemCommand.ts';

/** The interface name pods get, as kubelet asks for. */
export const POD_IFNAME = 'eth0';

/** The network configuration the lab hands tycho-cni on a node (docs/contracts.md). */
export function netconfFor(node: LabNode): object {
  return {
    cniVersion: '1.0.0',
    name: 'tycho',
    type: 'tycho-cni',
    agentSocket: agentSocket(node.name),
    ipam: { subnet: node.podCidr, dataDir: ipamDir(node.name) },
  };
}

const addResultSchema = z.looseObject({
  ips: z.array(z.looseObject({ address: z.string() })).min(1),
});

export interface CniPodRef {
  readonly node: LabNode;
  readonly netns: string;
  readonly containerId: string;
  readonly namespace: string;
  readonly podName: string;
}

/** Runs the plugin as the container runtime would: netconf on stdin, CNI_* in the environment, in the node's namespace. */
async function invokePlugin(command: 'ADD' | 'DEL', pod: CniPodRef): Promise<string> {
  const env = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: pod.containerId,
    CNI_NETNS: join(NETNS_DIR, pod.netns),
    CNI_IFNAME: POD_IFNAME,
    CNI_PATH: dirname(CNI_PLUGIN),
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.podName};K8S_POD_INFRA_CONTAINER_ID=${pod.containerId}`,
  };
  const [file, ...args] = inNetns(pod.node.netns, [process.execPath, CNI_PLUGIN]);
  const result = await runCommand(file as string, args, { input: JSON.stringify(netconfFor(pod.node)), env, cwd: REPO_ROOT, timeoutMs: 60_000 });
  if (result.code !== 0) {
    let message = (result.stdout || result.stderr).trim();
    try {
      const error = JSON.parse(result.stdout) as { msg?: string; details?: string };
      if (error.msg) message = `${error.msg}${error.details ? `: ${error.details}` : ''}`;
    } catch {
      // not a CNI error object: keep the raw output
    }
    throw new Error(`tycho-cni ${command} for ${pod.namespace}/${pod.podName} on ${pod.node.name} failed (exit ${result.code}): ${message}`);
  }
  return result.stdout;
}

/** CNI ADD: wires the pod's namespace to the node and returns the pod IP. */
export async function cniAdd(pod: CniPodRef): Promise<string> {
  const stdout = await invokePlugin('ADD', pod);
  const parsed = addResultSchema.safeParse(JSON.parse(stdout));
  if (!parsed.success) throw new Error(`tycho-cni ADD for ${pod.namespace}/${pod.podName}: unexpected result ${stdout.trim()}`);
  const address = parsed.data.ips[0]?.address ?? '';
  return address.split('/')[0] as string;
}

/** CNI DEL: unwires the pod (idempotent on the plugin's side). */
export async function cniDel(pod: CniPodRef): Promise<void> {
  await invokePlugin('DEL', pod);
}
