// A one-node Tycho lab for benchmarks, built only from namespaces named
// tycho-bench-*: the node namespace runs the real agent (which loads the
// datapath and attaches it to registered endpoints, and reads the cluster from
// the lab's API server double, bench/benchApiServer.ts); pods are wired by the
// real tycho-cni plugin run in the node namespace, as the lab wires them.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cniAdd, cniConfigFor, cniDel, type EndpointRegistration, type PodAttachment } from '@tycho/cni';
import type { HookKind, HookProgram } from '@tycho/datapath';
import { startBenchApiServer } from './benchApiServer.ts';
import type { BenchmarkContext } from './benchmark.ts';
import { inNetns, ip, mustRun, NETNS_DIR } from './systemCommand.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const AGENT_MAIN = join(REPO_ROOT, 'apps/agent/src/main.ts');
const EMPTY_PROGRAM_ATTACHER = join(REPO_ROOT, 'bench/emptyProgramAttacher.ts');
export const NODE_NETNS = 'tycho-bench-node';
const NODE_NAME = 'bench-node';
const POD_CIDR = '10.244.200.0/24';
const AGENT_READY_TIMEOUT_MS = 60_000;

/** The registration the CNI plugin sent for a pod, as the agent lists it. */
export type BenchEndpoint = EndpointRegistration;

export interface BenchPod {
  name: string;
  netns: string;
  ip: string;
  endpoint: BenchEndpoint;
}

export interface AgentStatus {
  seen_flows: number;
  lost_events: number;
}

/** One HTTP request to the agent over its unix socket; resolves with status and body. */
function agentRequest(socketPath: string, method: string, path: string, body?: object): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { socketPath, method, path, timeout: 5000, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`agent ${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function agentJson<T>(socketPath: string, method: string, path: string, expectStatus: number, body?: object): Promise<T | undefined> {
  const res = await agentRequest(socketPath, method, path, body);
  if (res.status !== expectStatus) throw new Error(`agent ${method} ${path}: expected ${expectStatus}, got ${res.status}: ${res.body.slice(0, 300)}`);
  return res.body === '' ? undefined : (JSON.parse(res.body) as T);
}

function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Creates a namespace of ours (a stale one of the same name from an interrupted run is ours too, and replaced). */
async function addNetns(name: string, ctx: BenchmarkContext): Promise<void> {
  if (!name.startsWith('tycho-bench-')) throw new Error(`refusing to create namespace '${name}': benchmark namespaces are named tycho-bench-*`);
  if (existsSync(join(NETNS_DIR, name))) {
    ctx.log(`removing stale namespace ${name} from an earlier run`);
    await ip(['netns', 'del', name]);
  }
  await ip(['netns', 'add', name]);
  ctx.defer(() => ip(['netns', 'del', name]).then(() => undefined));
  await ip(['link', 'set', 'lo', 'up'], name);
}

/** Starts bench/emptyProgramAttacher.ts in the node namespace; `send` resolves with its answer to a command. */
async function startEmptyProgramAttacher(ctx: BenchmarkContext, pinDir: string) {
  ctx.defer(() => rmSync(pinDir, { recursive: true, force: true }));
  const argv = inNetns(NODE_NETNS, [process.execPath, '--import', 'tsx', EMPTY_PROGRAM_ATTACHER, pinDir]);
  const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  ctx.defer(() => stopProcess(child));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const replies: string[] = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    replies.push(line);
    wake?.();
  });
  child.on('exit', () => wake?.());
  const nextReply = async (): Promise<string> => {
    while (replies.length === 0) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`empty-program attacher exited: ${stderr.trim().slice(-800)}`);
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    return replies.shift()!;
  };
  const ready = await nextReply();
  if (ready !== 'ready') throw new Error(`empty-program attacher said '${ready}' instead of ready`);
  return {
    async send(command: string): Promise<string> {
      child.stdin!.write(`${command}\n`);
      const reply = await nextReply();
      if (reply.startsWith('error ')) throw new Error(`empty-program attacher, '${command}': ${reply.slice(6)}`);
      return reply;
    },
  } as const;
}

/**
 * Builds the node namespace, starts the agent in it and wires `podNames`
 * with tycho-cni. Everything is undone through ctx.defer.
 */
export async function startBenchNode(ctx: BenchmarkContext, podNames: readonly string[]) {
  const runDir = mkdtempSync('/tmp/tycho-bench-');
  ctx.defer(() => rmSync(runDir, { recursive: true, force: true }));
  const pinDir = `/sys/fs/bpf/tycho-bench-${randomBytes(4).toString('hex')}`;
  ctx.defer(() => rmSync(pinDir, { recursive: true, force: true }));

  await addNetns(NODE_NETNS, ctx);
  await mustRun('nsenter', [`--net=${NETNS_DIR}/${NODE_NETNS}`, '--', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  // An uplink with a default route, as a lab node has: the host veths answer
  // ARP for the pods' gateway 169.254.1.1 only if the node has a route to it.
  await ip(['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'uplink'], NODE_NETNS);
  await ip(['addr', 'add', '172.18.0.2/24', 'dev', 'eth0'], NODE_NETNS);
  await ip(['link', 'set', 'eth0', 'up'], NODE_NETNS);
  await ip(['link', 'set', 'uplink', 'up'], NODE_NETNS);
  await ip(['route', 'add', 'default', 'via', '172.18.0.100', 'dev', 'eth0'], NODE_NETNS);

  const kube = await startBenchApiServer(ctx, { runDir, netns: NODE_NETNS, nodeName: NODE_NAME, podCidr: POD_CIDR });
  kube.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  for (const name of podNames) {
    kube.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'bench', labels: { app: name } }, spec: { nodeName: NODE_NAME, containers: [{ name: 'main', image: 'tycho/echo' }] } } as never);
  }

  const cniConfig = cniConfigFor({ name: NODE_NAME, podCidr: POD_CIDR }, { runDir });
  const socketPath = cniConfig.agentSocket;
  const logPath = join(runDir, 'agent.log');
  const logFd = openSync(logPath, 'a');
  const agentArgv = inNetns(NODE_NETNS, [
    process.execPath, '--import', 'tsx', AGENT_MAIN,
    '--node', NODE_NAME,
    '--socket', socketPath,
    '--pin-dir', pinDir,
    '--state-dir', join(runDir, NODE_NAME),
    '--kubeconfig', kube.kubeconfig,
  ]);
  const agent = spawn(agentArgv[0]!, agentArgv.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  ctx.defer(() => stopProcess(agent));
  const agentLog = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8').trim().split('\n').slice(-15).join('\n') : '');

  const deadline = Date.now() + AGENT_READY_TIMEOUT_MS;
  for (;;) {
    if (agent.exitCode !== null) throw new Error(`agent exited with ${agent.exitCode}; its log ends with:\n${agentLog()}`);
    try {
      await agentJson(socketPath, 'GET', '/v1/status', 200);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`agent did not answer on ${socketPath} (${(error as Error).message}); log:\n${agentLog()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  ctx.log(`agent (pid ${agent.pid}) answers on ${socketPath}, pins in ${pinDir}`);

  const pods: BenchPod[] = [];
  for (const name of podNames) {
    const netns = `tycho-bench-pod-${name}`;
    await addNetns(netns, ctx);
    const attachment: PodAttachment = { containerId: `bench-${name}-${randomBytes(4).toString('hex')}`, netns: join(NETNS_DIR, netns), podNamespace: 'bench', podName: name };
    const result = await cniAdd(attachment, cniConfig, { nodeNetns: NODE_NETNS });
    ctx.defer(() => cniDel(attachment, cniConfig, { nodeNetns: NODE_NETNS }));
    const podIp = result.ips[0]?.address.split('/')[0];
    if (!podIp) throw new Error(`tycho-cni ADD for pod ${name} returned no address: ${JSON.stringify(result)}`);
    const endpoints = (await agentJson<BenchEndpoint[]>(socketPath, 'GET', '/v1/endpoints', 200)) ?? [];
    const endpoint = endpoints.find((e) => e.containerId === attachment.containerId);
    if (!endpoint) throw new Error(`agent has no endpoint for ${attachment.containerId} after CNI ADD`);
    pods.push({ name, netns, ip: podIp, endpoint });
  }

  const attacher = await startEmptyProgramAttacher(ctx, `${pinDir}-empty`);

  const registration = ({ containerId, podName, namespace, netns, ifname, hostIfname, hostIfindex, ipv4 }: BenchEndpoint) =>
    ({ containerId, podName, namespace, netns, ifname, hostIfname, hostIfindex, ipv4 });

  return {
    pods,
    /** The agent process (nsenter execs node in place: the same pid), for its CPU time in /proc. */
    agentPid: agent.pid,
    /** GET of an agent route (e.g. /v1/policies), its JSON. */
    agentGet: <T>(path: string) => agentJson<T>(socketPath, 'GET', path, 200),
    /** The agent's Kubernetes API (the lab's double), owned by this bench node: cluster writes go here. */
    kube,
    /** Registers the pods again, as the CNI plugin does: the agent attaches the flow programs. */
    async attachPrograms(): Promise<void> {
      for (const pod of pods) await agentJson(socketPath, 'POST', '/v1/endpoints', 201, registration(pod.endpoint));
    },
    /** Deregisters the pods: the agent detaches the flow programs from their veths. */
    async detachPrograms(): Promise<void> {
      for (const pod of pods) await agentJson(socketPath, 'DELETE', `/v1/endpoints/${pod.endpoint.containerId}`, 204);
    },
    /** Puts the empty tc program on both hooks of every pod's host veth, the way the datapath attaches its own. */
    async attachEmptyPrograms(hook: HookKind): Promise<void> {
      await attacher.send(`attach ${hook} ${pods.map((p) => p.endpoint.hostIfindex).join(' ')}`);
    },
    async detachEmptyPrograms(): Promise<void> {
      await attacher.send(`detach ${pods.map((p) => p.endpoint.hostIfindex).join(' ')}`);
    },
    /** The programs on a pod's host veth as the kernel lists them. */
    async hookProgramsOn(pod: BenchPod): Promise<HookProgram[]> {
      return JSON.parse(await attacher.send(`programs ${pod.endpoint.hostIfindex}`)) as HookProgram[];
    },
    /** The same, as text, e.g. 'tcx ingress from_container'. */
    async programsOn(pod: BenchPod): Promise<string[]> {
      return (await this.hookProgramsOn(pod)).map((p) => `${p.hook} ${p.direction} ${p.name}`);
    },
    async status(): Promise<AgentStatus> {
      const status = await agentJson<AgentStatus>(socketPath, 'GET', '/v1/status', 200);
      if (!status) throw new Error('agent answered /v1/status with an empty body');
      return status;
    },
  } as const;
}

export type BenchNode = Awaited<ReturnType<typeof startBenchNode>>;
