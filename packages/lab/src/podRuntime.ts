import { createWriteStream, mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { V1Container } from '@kubernetes/client-node';
import { spawnInCgroup } from './cgroups.ts';
import { cniAdd, cniDel } from './cni.ts';
import type { LabNode } from './nodes.ts';
import { CONTAINER_MAIN, DNS_RECORDS_FILE, POD_SPEC_DIR, podCgroup, podLogFile, REPO_ROOT } from './paths.ts';
import { inNetns, ip } from './systemCommand.ts';
import { netnsExists } from './topology.ts';
import type { WorkloadKind } from './workloadImages.ts';
import type { ContainerSpec } from './workloads/containerSpec.ts';
import { parseStatusLine, type StatusLine } from './workloads/statusLine.ts';

/** Lab default probe period (kubelet's is 10 s; the lab wants answers sooner). */
const DEFAULT_PROBE_PERIOD_S = 3;

/** Where a pod runs: its network namespace (the node's for host-network pods), address and cgroup. */
export interface PodSandbox {
  readonly namespace: string;
  readonly name: string;
  readonly node: LabNode;
  readonly hostNetwork: boolean;
  readonly netns: string;
  readonly containerId: string;
  readonly cgroup: string;
  readonly ip: string;
}

/**
 * Creates the pod's sandbox: for a pod network pod, a namespace wired by the
 * real tycho-cni plugin run in the node's namespace (the plugin registers the
 * endpoint with the node's agent); for a host-network pod, just the node's
 * namespace and address.
 */
export async function createSandbox(pod: {
  namespace: string;
  name: string;
  node: LabNode;
  hostNetwork: boolean;
  netns: string;
  containerId: string;
}): Promise<PodSandbox> {
  const cgroup = podCgroup(pod.node.name, pod.name);
  if (pod.hostNetwork) return { ...pod, netns: pod.node.netns, cgroup, ip: pod.node.ip };
  await ip(['netns', 'add', pod.netns]);
  await ip(['link', 'set', 'lo', 'up'], pod.netns);
  const podIp = await cniAdd({ node: pod.node, netns: pod.netns, containerId: pod.containerId, namespace: pod.namespace, podName: pod.name });
  return { ...pod, cgroup, ip: podIp };
}

/** Undoes createSandbox: CNI DEL and the namespace. */
export async function removeSandbox(sandbox: PodSandbox): Promise<void> {
  if (sandbox.hostNetwork) return;
  try {
    await cniDel({ node: sandbox.node, netns: sandbox.netns, containerId: sandbox.containerId, namespace: sandbox.namespace, podName: sandbox.name });
  } finally {
    if (netnsExists(sandbox.netns)) await ip(['netns', 'del', sandbox.netns]);
  }
}

/** The container spec file for one container of a pod. */
export function containerSpecFor(
  sandbox: PodSandbox,
  container: V1Container,
  workload: WorkloadKind,
  dns: { nameservers: readonly string[]; searchDomains: readonly string[] },
): ContainerSpec {
  const probe = container.readinessProbe;
  return {
    namespace: sandbox.namespace,
    pod: sandbox.name,
    container: container.name,
    workload,
    env: Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ''])),
    ports: (container.ports ?? []).map((p) => ({ port: p.containerPort, protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP' })),
    ...(probe?.exec?.command
      ? {
          readinessProbe: {
            command: probe.exec.command,
            periodMs: (probe.periodSeconds ?? DEFAULT_PROBE_PERIOD_S) * 1000,
            timeoutMs: (probe.timeoutSeconds ?? 1) * 1000,
            failureThreshold: probe.failureThreshold ?? 3,
            initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
          },
        }
      : {}),
    nameservers: [...dns.nameservers],
    searchDomains: [...dns.searchDomains],
    dnsRecordsFile: DNS_RECORDS_FILE,
  };
}

/**
 * Starts one container: `ip netns exec <pod netns> node --import tsx
 * containerMain.ts <spec>` inside the pod's cgroup. Output goes to the pod's
 * log file; status lines are handed to `onStatus`.
 */
export function startContainer(sandbox: PodSandbox, spec: ContainerSpec, onStatus: (line: StatusLine) => void): ChildProcess {
  mkdirSync(POD_SPEC_DIR, { recursive: true });
  const specFile = join(POD_SPEC_DIR, `${sandbox.namespace}_${sandbox.name}_${spec.container}.json`);
  writeFileSync(specFile, JSON.stringify(spec, null, 2));
  const logFile = podLogFile(sandbox.namespace, sandbox.name);
  const logFd = openSync(logFile, 'a');
  const argv = inNetns(sandbox.netns, [process.execPath, '--import', 'tsx', CONTAINER_MAIN, specFile]);
  const child = spawnInCgroup(sandbox.cgroup, argv, { stdio: ['ignore', 'pipe', logFd], cwd: REPO_ROOT });
  closeSync(logFd);
  const log = createWriteStream(logFile, { flags: 'a' });
  if (child.stdout) {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (text) => {
      log.write(`${new Date().toISOString()} ${text}\n`);
      const status = parseStatusLine(text);
      if (status) onStatus(status);
    });
    lines.on('close', () => log.end());
  }
  return child;
}
