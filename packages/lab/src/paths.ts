import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/**
 * Where the lab keeps things on the machine (docs/contracts.md). Everything
 * below these roots is created by the lab and removed by `labDown()`.
 */
export const RUN_DIR = '/run/tycho';
export const LAB_DIR = join(RUN_DIR, 'lab');
export const STATE_FILE = join(LAB_DIR, 'state.json');
/** The lab's kube-apiserver test double: its state, TLS material and unix socket. */
export const APISERVER_DIR = join(LAB_DIR, 'apiserver');
/** The kubeconfig for the root network namespace (kubectl, the lab's API, `tycho`): https://127.0.0.1:6443. */
export const KUBECONFIG_FILE = join(LAB_DIR, 'kubeconfig');
/** The kubeconfig the agents use from their node namespaces: the API server at the underlay gateway. */
export const NODES_KUBECONFIG_FILE = join(LAB_DIR, 'kubeconfig-nodes');
export const DNS_RECORDS_FILE = join(LAB_DIR, 'dns', 'records.json');
export const POD_SPEC_DIR = join(LAB_DIR, 'pods');
export const LOG_DIR = join(LAB_DIR, 'logs');
export const SUPERVISOR_LOG = join(LAB_DIR, 'supervisor.log');

export const BPF_PIN_ROOT = '/sys/fs/bpf/tycho';
export const CGROUP_ROOT = '/sys/fs/cgroup/unified/tycho';
export const NETNS_DIR = '/run/netns';

export function nodeRunDir(node: string): string {
  return join(RUN_DIR, node);
}
export function agentSocket(node: string): string {
  return join(RUN_DIR, node, 'agent.sock');
}
export function ipamDir(node: string): string {
  return join(RUN_DIR, node, 'ipam');
}
export function bpfPinDir(node: string): string {
  return join(BPF_PIN_ROOT, node);
}
export function nodeCgroup(node: string): string {
  return join(CGROUP_ROOT, node);
}
export function podCgroup(node: string, podName: string): string {
  return join(CGROUP_ROOT, node, podName);
}
export function podLogFile(namespace: string, podName: string): string {
  return join(LOG_DIR, `${namespace}_${podName}.log`);
}

/** Repository root (the lab runs the other parts from their sources). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const LAB_PACKAGE_DIR = join(REPO_ROOT, 'packages', 'lab');
export const MANIFEST_DIR = join(LAB_PACKAGE_DIR, 'manifests');
export const DEFAULT_MANIFESTS = [join(MANIFEST_DIR, 'kube-dns.yaml'), join(MANIFEST_DIR, 'connectivity-check.yaml')];
export const CNI_PLUGIN = join(REPO_ROOT, 'packages', 'cni', 'bin', 'tycho-cni.mjs');
export const AGENT_MAIN = join(REPO_ROOT, 'apps', 'agent', 'src', 'main.ts');
export const API_MAIN = join(REPO_ROOT, 'apps', 'api', 'src', 'main.ts');
/** The API and web app, on the port Hubble UI's NodePort uses. */
export const API_PORT = 32321;
export const API_CGROUP = join(CGROUP_ROOT, 'api');
export const CONTAINER_MAIN = join(LAB_PACKAGE_DIR, 'src', 'workloads', 'containerMain.ts');
export const WORLD_MAIN = join(LAB_PACKAGE_DIR, 'src', 'workloads', 'worldMain.ts');
export const SUPERVISOR_MAIN = join(LAB_PACKAGE_DIR, 'src', 'supervisorMain.ts');
export const APISERVER_MAIN = join(LAB_PACKAGE_DIR, 'src', 'apiServerMain.ts');
export const APISERVER_FORWARDER_MAIN = join(LAB_PACKAGE_DIR, 'src', 'apiServerForwarderMain.ts');
export const CRD_DIR = join(REPO_ROOT, 'packages', 'lab-apiserver', 'crds');
