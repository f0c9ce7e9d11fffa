// End-to-end tests of the tycho-cni binary: each test runs the real plugin as a child process
// inside a throwaway node namespace, against throwaway pod namespaces, and registers pods with the
// real node agent (apps/agent/src/main.ts) running in that node namespace. The only stand-in is
// the one for the Kubernetes API server: the lab's double (tycho-lab-apiserver), run in the node
// namespace on its loopback, holding the Node and the pods the agent resolves labels from.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { kubeConfigForServer } from '@tycho/kube';
import { createCiliumCrds } from '@tycho/kube/labApiServer.fixture';
import { createObjectStore, createResourceRegistry } from '@tycho/lab-apiserver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cniConfigFor, type TychoCniConfig } from './cniConfig.ts';
import { CniErrorCode } from './cniError.ts';
import { cniResultSchema, type CniResult } from './cniResult.ts';
import { cniEnvFor, runCni, type CniOutcome, type PodAttachment } from './runCni.ts';
import { hostIfnameFor } from './veth.ts';
import type { EndpointRegistration } from './agentClient.ts';

const run = promisify(execFile);

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const agentMain = fileURLToPath(new URL('../../../apps/agent/src/main.ts', import.meta.url));

const testId = randomBytes(3).toString('hex');
const nodeName = 'node-t';
const nodeNs = `tycho-t-cni-${testId}-node`;
const podNs = (suffix: string) => `tycho-t-cni-${testId}-pod-${suffix}`;
const podNetnsPath = (suffix: string) => `/var/run/netns/${podNs(suffix)}`;
const podSuffixes = ['a', 'b', 'r', 'v', 'c1', 'c2', 'c3'] as const;
const pinDir = `/sys/fs/bpf/tycho-test-cni-${testId}`;

const podCidr = '10.244.7.0/24';
let workDir: string;
let config: TychoCniConfig;
let agent: NodeAgentProcess | undefined;
let apiServer: ChildProcess | undefined;

function pod(suffix: string, containerId = `ctr-${testId}-${suffix}`): PodAttachment {
  return { containerId, netns: podNetnsPath(suffix), podNamespace: 'default', podName: `pod-${suffix}` };
}

/** The `app` label each test pod carries in the KubeStore; the agent turns it into `k8s:app=…`. */
const appLabelOf = (suffix: string) => `cni-test-${suffix}`;

function inNode(env: Record<string, string>, stdin: string | object): Promise<CniOutcome> {
  return runCni(env, stdin, { nodeNetns: nodeNs });
}

async function ipJson(ns: string, args: string[]): Promise<Array<Record<string, unknown>>> {
  const { stdout } = await run('ip', ['-n', ns, '-j', ...args]);
  return JSON.parse(stdout === '' ? '[]' : stdout) as Array<Record<string, unknown>>;
}

/**
 * The programs on an interface's tc hooks in the node namespace (tcx links or
 * clsact filters), as the datapath's hook inspector prints them: `tc` and
 * bpftool 7.1 cannot show tcx links per interface.
 */
async function hookPrograms(ifname: string): Promise<Array<Record<string, unknown>>> {
  const inspector = 'packages/datapath/src/hookProgramsMain.ts';
  const { stdout } = await run('nsenter', [`--net=/run/netns/${nodeNs}`, process.execPath, '--import', 'tsx', inspector, ifname], { cwd: repoRoot });
  return JSON.parse(stdout) as Array<Record<string, unknown>>;
}

async function linkExists(ns: string, name: string): Promise<boolean> {
  return run('ip', ['-n', ns, 'link', 'show', 'dev', name]).then(
    () => true,
    () => false,
  );
}

function ipamFiles(conf: TychoCniConfig): Promise<string[]> {
  return readdir(conf.ipam.dataDir).then(
    (names) => names.filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name)),
    () => [],
  );
}

function expectOk(outcome: CniOutcome): unknown {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.error)}\n${outcome.stderr}`);
  return outcome.output;
}

function expectCode(outcome: CniOutcome, code: number): { msg: string; details: string } {
  if (outcome.ok) throw new Error(`expected error code ${code}, got success: ${JSON.stringify(outcome.output)}`);
  expect(outcome.error.code, `${outcome.error.msg}: ${outcome.error.details}`).toBe(code);
  expect(outcome.exitCode).not.toBe(0);
  return outcome.error;
}

/** One HTTP request to the agent's API on its unix socket. */
function agentRequest(socketPath: string, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, timeout: 2_000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${socketPath} within 2 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** What the real agent answers to `GET /v1/endpoints` (docs/contracts.md). */
interface AgentEndpoint extends EndpointRegistration {
  id: number;
  identity: number;
  labels: string[];
}

async function agentEndpoints(): Promise<AgentEndpoint[]> {
  const reply = await agentRequest(config.agentSocket, 'GET', '/v1/endpoints');
  if (reply.status !== 200) throw new Error(`GET /v1/endpoints answered ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body) as AgentEndpoint[];
}

async function registeredContainerIds(): Promise<string[]> {
  return (await agentEndpoints()).map((endpoint) => endpoint.containerId);
}

/** The real node agent, started as the lab starts it: its own process inside the node namespace. */
interface NodeAgentProcess {
  child: ChildProcess;
  /** Everything the agent wrote to stdout and stderr, for failure messages. */
  output: () => string;
}

const AGENT_READY_TIMEOUT_MS = 60_000;
const AGENT_STOP_GRACE_MS = 5_000;

/**
 * Starts apps/agent/src/main.ts in the node namespace and waits until it answers `GET /v1/status`.
 * nsenter rather than `ip netns exec`: the latter remounts /sys, which hides the bpffs the agent pins to.
 */
async function startNodeAgent(options: { stateDir: string; kubeconfig: string }): Promise<NodeAgentProcess> {
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${nodeNs}`,
      '--',
      process.execPath,
      '--import',
      'tsx',
      agentMain,
      '--node',
      nodeName,
      '--socket',
      config.agentSocket,
      '--pin-dir',
      pinDir,
      '--state-dir',
      options.stateDir,
      '--kubeconfig',
      options.kubeconfig,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const started: NodeAgentProcess = { child, output: () => output };

  const deadline = Date.now() + AGENT_READY_TIMEOUT_MS;
  let lastError = 'not asked yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the agent exited (${child.signalCode ?? `code ${child.exitCode}`}) before answering; its output:\n${output}`);
    }
    try {
      const reply = await agentRequest(config.agentSocket, 'GET', '/v1/status');
      if (reply.status === 200) return started;
      lastError = `HTTP ${reply.status}: ${reply.body}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stopNodeAgent(started);
  throw new Error(`the agent did not answer GET /v1/status on ${config.agentSocket} within ${AGENT_READY_TIMEOUT_MS} ms (${lastError}); its output:\n${output}`);
}

/** SIGTERM (the agent's clean shutdown), SIGKILL if it is still there after a grace period. */
async function stopNodeAgent({ child }: NodeAgentProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), AGENT_STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * A stand-in for an agent too busy to answer in time: it takes every registration (and records it)
 * but answers only after 10 s, longer than any ADD waits; DELETEs are answered at once.
 */
async function lateAnsweringAgent(socketPath: string): Promise<{ socketPath: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    if (req.method !== 'POST') {
      res.writeHead(204).end();
      return;
    }
    const timer = setTimeout(() => res.writeHead(201).end('{"id":1,"identity":256}'), 10_000);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    requests,
    close: async () => {
      timers.forEach(clearTimeout);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Where the API server double listens in the node namespace (its own loopback: no other process there). */
const API_SERVER_ADDRESS = '127.0.0.1:6443';

/**
 * Writes the Cilium CRDs, the Node and the test pods into the API server double's data directory,
 * then starts it in the node namespace, where the agent reaches it; returns the agent's kubeconfig.
 */
async function startApiServer(dataDir: string): Promise<{ process: ChildProcess; kubeconfig: string }> {
  const store = createObjectStore({ registry: createResourceRegistry(), dataDir });
  createCiliumCrds(store);
  const resource = (group: string, version: string, plural: string) => {
    const found = store.registry.find(group, version, plural);
    if (!found) throw new Error(`the API server double serves no ${plural}`);
    return found;
  };
  store.create(resource('', 'v1', 'nodes'), '', { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName }, spec: { podCIDR: podCidr } });
  for (const suffix of podSuffixes) {
    store.create(resource('', 'v1', 'pods'), 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${suffix}`, namespace: 'default', labels: { app: appLabelOf(suffix) } },
      spec: { nodeName, containers: [{ name: 'main', image: 'tycho/echo' }] },
    });
  }
  await store.flushed();
  store.close();
  await run('ip', ['-n', nodeNs, 'link', 'set', 'lo', 'up']);
  const apiServerBin = join(repoRoot, 'packages/lab-apiserver/bin/tycho-lab-apiserver.mjs');
  const child = spawn('nsenter', [`--net=/run/netns/${nodeNs}`, '--', process.execPath, apiServerBin, '--listen', API_SERVER_ADDRESS, '--data-dir', dataDir], { cwd: repoRoot, stdio: 'ignore' });
  const kubeconfig = join(workDir, 'kubeconfig');
  await writeFile(kubeconfig, (await kubeConfigForServer(`http://${API_SERVER_ADDRESS}`)).exportConfig());
  return { process: child, kubeconfig };
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), `tycho-t-cni-${testId}-`));
  config = cniConfigFor({ name: nodeName, podCidr }, { runDir: workDir });
  const nodeDir = join(workDir, nodeName);
  await mkdir(nodeDir, { recursive: true });
  for (const ns of [nodeNs, ...podSuffixes.map(podNs)]) await run('ip', ['netns', 'add', ns]);
  const started = await startApiServer(join(workDir, 'apiserver'));
  apiServer = started.process;
  agent = await startNodeAgent({ stateDir: nodeDir, kubeconfig: started.kubeconfig });
});

afterAll(async () => {
  // Every step runs even if an earlier one fails; the first failure is reported at the end.
  const failures: unknown[] = [];
  const attempt = async (step: () => Promise<unknown>) => {
    await step().catch((error: unknown) => failures.push(error));
  };
  const runningAgent = agent;
  if (runningAgent !== undefined) await attempt(() => stopNodeAgent(runningAgent));
  const runningApiServer = apiServer;
  if (runningApiServer !== undefined) await attempt(() => stopNodeAgent({ child: runningApiServer, output: () => '' }));
  for (const ns of [nodeNs, ...podSuffixes.map(podNs)]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  await attempt(() => rm(pinDir, { recursive: true, force: true }));
  if (workDir !== undefined) await attempt(() => rm(workDir, { recursive: true, force: true }));
  if (failures.length > 0) throw failures[0];
});

describe('tycho-cni VERSION', () => {
  it('prints the supported spec versions', async () => {
    expect(expectOk(await inNode(cniEnvFor('VERSION'), { cniVersion: '1.0.0' }))).toEqual({
      cniVersion: '1.0.0',
      supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'],
    });
  });

  it('answers with 1.0.0 when stdin is empty', async () => {
    expect(expectOk(await inNode(cniEnvFor('VERSION'), ''))).toMatchObject({ cniVersion: '1.0.0' });
  });
});

describe('tycho-cni ADD', () => {
  const attached = pod('a');
  const hostIfname = hostIfnameFor(attached.containerId);
  let result: CniResult;

  beforeAll(async () => {
    result = cniResultSchema.parse(expectOk(await inNode(cniEnvFor('ADD', attached), config)));
  });

  it('prints a CNI 1.0.0 result with both veth ends, the /32, its gateway and routes', () => {
    expect(result).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: hostIfname, mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) },
        { name: 'eth0', mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/), sandbox: attached.netns },
      ],
      ips: [{ address: '10.244.7.2/32', gateway: '169.254.1.1', interface: 1 }],
      routes: [{ dst: '169.254.1.1/32' }, { dst: '0.0.0.0/0', gw: '169.254.1.1' }],
      dns: {},
    });
  });

  it('names the host end lxc + 11 hex characters of sha256(containerId)', () => {
    expect(hostIfname).toMatch(/^lxc[0-9a-f]{11}$/);
  });

  it('puts the address on eth0 inside the pod namespace, up, with the configured MTU', async () => {
    const [link] = await ipJson(podNs('a'), ['-4', 'addr', 'show', 'dev', 'eth0']);
    expect(link).toMatchObject({ ifname: 'eth0', mtu: 1500, operstate: 'UP' });
    expect(link?.['addr_info']).toEqual([expect.objectContaining({ family: 'inet', local: '10.244.7.2', prefixlen: 32 })]);
  });

  it('routes the pod through 169.254.1.1 on eth0', async () => {
    const routes = await ipJson(podNs('a'), ['-4', 'route', 'show']);
    expect(routes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dst: '169.254.1.1', dev: 'eth0', scope: 'link' }),
        expect.objectContaining({ dst: 'default', gateway: '169.254.1.1', dev: 'eth0' }),
      ]),
    );
  });

  it('brings the host end up in the node namespace', async () => {
    const [link] = await ipJson(nodeNs, ['link', 'show', 'dev', hostIfname]);
    expect(link).toMatchObject({ ifname: hostIfname, mtu: 1500, operstate: 'UP' });
  });

  it('turns on proxy ARP on the host end', async () => {
    const { stdout } = await run('ip', ['netns', 'exec', nodeNs, 'cat', `/proc/sys/net/ipv4/conf/${hostIfname}/proxy_arp`]);
    expect(stdout.trim()).toBe('1');
  });

  it('routes the pod /32 to the host end in the node namespace', async () => {
    const routes = await ipJson(nodeNs, ['-4', 'route', 'show', '10.244.7.2/32']);
    expect(routes).toEqual([expect.objectContaining({ dst: '10.244.7.2', dev: hostIfname })]);
  });

  it('records the allocation in the IPAM data directory', async () => {
    expect(await ipamFiles(config)).toContain('10.244.7.2');
  });

  it('registers the endpoint with the agent, which resolves the pod labels from the KubeStore', async () => {
    const [link] = await ipJson(nodeNs, ['link', 'show', 'dev', hostIfname]);
    expect(await agentEndpoints()).toContainEqual({
      id: expect.any(Number),
      identity: expect.any(Number),
      labels: [`k8s:app=${appLabelOf('a')}`, 'k8s:io.kubernetes.pod.namespace=default'],
      containerId: attached.containerId,
      podName: 'pod-a',
      namespace: 'default',
      netns: attached.netns,
      ifname: 'eth0',
      hostIfname,
      hostIfindex: link?.['ifindex'],
      ipv4: '10.244.7.2',
    });
  });

  it('gets the datapath programs attached by the agent to both hooks of the host end', async () => {
    const programs = await hookPrograms(hostIfname);
    expect(programs).toContainEqual(expect.objectContaining({ direction: 'ingress', name: 'from_container' }));
    expect(programs).toContainEqual(expect.objectContaining({ direction: 'egress', name: 'to_container' }));
  });

  it('refuses an interface name that already exists in the pod and leaks no address', async () => {
    const intruder = pod('a', `ctr-${testId}-intruder`);
    const before = await ipamFiles(config);
    const error = expectCode(await inNode(cniEnvFor('ADD', intruder), config), CniErrorCode.interfaceSetupFailed);
    expect(error.details).toContain('eth0 already exists');
    expect(await ipamFiles(config)).toEqual(before);
    expect(await linkExists(nodeNs, hostIfnameFor(intruder.containerId))).toBe(false);
    expect(await registeredContainerIds()).not.toContain(intruder.containerId);
  });

  it('answers a 0.4.0 configuration with a 0.4.0 result (ips carry version "4")', async () => {
    const legacy = pod('v');
    const output = expectOk(await inNode(cniEnvFor('ADD', legacy), { ...config, cniVersion: '0.4.0' }));
    expect(output).toMatchObject({ cniVersion: '0.4.0', ips: [{ version: '4', interface: 1, gateway: '169.254.1.1' }] });
    expect(await registeredContainerIds()).toContain(legacy.containerId);
  });
});

describe('tycho-cni CHECK', () => {
  const attached = pod('a');

  it('succeeds silently for an attachment as ADD left it', async () => {
    expect(expectOk(await inNode(cniEnvFor('CHECK', attached), config))).toBeUndefined();
  });

  it('fails with code 3 for a container ADD never saw', async () => {
    const error = expectCode(await inNode(cniEnvFor('CHECK', pod('a', 'never-added')), config), CniErrorCode.unknownContainer);
    expect(error.details).toContain('never-added');
  });

  it('fails with code 103 when prevResult disagrees with the IPAM record', async () => {
    const withPrev = { ...config, prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.244.7.99/32', interface: 1 }] } };
    const error = expectCode(await inNode(cniEnvFor('CHECK', attached), withPrev), CniErrorCode.attachmentMismatch);
    expect(error.details).toContain('10.244.7.99/32');
  });

  it('fails with code 103 when the pod lost its address', async () => {
    await run('ip', ['-n', podNs('a'), 'addr', 'del', '10.244.7.2/32', 'dev', 'eth0']);
    try {
      const error = expectCode(await inNode(cniEnvFor('CHECK', attached), config), CniErrorCode.attachmentMismatch);
      expect(error.details).toContain('expected 10.244.7.2/32');
    } finally {
      await run('ip', ['-n', podNs('a'), 'addr', 'add', '10.244.7.2/32', 'dev', 'eth0']);
    }
  });
});

describe('tycho-cni DEL', () => {
  const attached = pod('b');
  const hostIfname = hostIfnameFor(attached.containerId);
  let address: string;
  let registeredBeforeDel: string[];

  beforeAll(async () => {
    const result = cniResultSchema.parse(expectOk(await inNode(cniEnvFor('ADD', attached), config)));
    address = result.ips[0]?.address.split('/')[0] ?? '';
    registeredBeforeDel = await registeredContainerIds();
    expectOk(await inNode(cniEnvFor('DEL', attached), config));
  });

  it('deletes the veth pair', async () => {
    expect(await linkExists(nodeNs, hostIfname)).toBe(false);
    expect(await linkExists(podNs('b'), 'eth0')).toBe(false);
  });

  it('frees the address', async () => {
    expect(address).toMatch(/^10\.244\.7\./);
    expect(await ipamFiles(config)).not.toContain(address);
  });

  it('deregisters the endpoint from the agent', async () => {
    expect(registeredBeforeDel).toContain(attached.containerId);
    expect(await registeredContainerIds()).not.toContain(attached.containerId);
  });

  it('succeeds again when repeated', async () => {
    expectOk(await inNode(cniEnvFor('DEL', attached), config));
  });

  it('succeeds when the network namespace is gone', async () => {
    expectOk(await inNode(cniEnvFor('DEL', { ...attached, netns: `/var/run/netns/tycho-t-cni-${testId}-gone` }), config));
  });

  it('succeeds without CNI_NETNS', async () => {
    const { CNI_NETNS: _omitted, ...env } = cniEnvFor('DEL', attached);
    expectOk(await inNode(env, config));
  });

  it('succeeds when the agent is unreachable', async () => {
    expectOk(await inNode(cniEnvFor('DEL', attached), { ...config, agentSocket: join(workDir, 'no-agent.sock') }));
  });
});

describe('tycho-cni errors', () => {
  it('answers an unsupported cniVersion with code 1', async () => {
    const error = expectCode(await inNode(cniEnvFor('ADD', pod('r')), { ...config, cniVersion: '2.0.0' }), CniErrorCode.incompatibleVersion);
    expect(error.details).toContain('"2.0.0"');
  });

  it('answers ipMasq=true with code 2 naming key and value', async () => {
    const error = expectCode(await inNode(cniEnvFor('ADD', pod('r')), { ...config, ipMasq: true }), CniErrorCode.unsupportedField);
    expect(error.details).toContain('ipMasq=true');
  });

  it('answers ADD into a network namespace that does not exist with code 3', async () => {
    const ghost = { ...pod('r'), netns: `/var/run/netns/tycho-t-cni-${testId}-ghost` };
    expectCode(await inNode(cniEnvFor('ADD', ghost), config), CniErrorCode.unknownContainer);
  });

  it('answers a missing CNI_CONTAINERID with code 4 naming the variable', async () => {
    const { CNI_CONTAINERID: _omitted, ...env } = cniEnvFor('ADD', pod('r'));
    const error = expectCode(await inNode(env, config), CniErrorCode.invalidEnvironment);
    expect(error.details).toContain('CNI_CONTAINERID');
  });

  it('answers a missing CNI_COMMAND with code 4 naming the variable', async () => {
    const { CNI_COMMAND: _omitted, ...env } = cniEnvFor('ADD', pod('r'));
    const error = expectCode(await inNode(env, config), CniErrorCode.invalidEnvironment);
    expect(error.details).toContain('CNI_COMMAND');
  });

  it('answers ADD without K8S_POD_NAME in CNI_ARGS with code 4', async () => {
    const env = { ...cniEnvFor('ADD', pod('r')), CNI_ARGS: 'K8S_POD_NAMESPACE=default' };
    const error = expectCode(await inNode(env, config), CniErrorCode.invalidEnvironment);
    expect(error.details).toContain('CNI_ARGS.K8S_POD_NAME');
  });

  it('answers stdin that is not JSON with code 6', async () => {
    expectCode(await inNode(cniEnvFor('ADD', pod('r')), '{"cniVersion": '), CniErrorCode.decodingFailure);
  });

  it('answers an invalid subnet with code 7 saying where and what was expected', async () => {
    const bad = { ...config, ipam: { ...config.ipam, subnet: '10.244.7.0/33' } };
    const error = expectCode(await inNode(cniEnvFor('ADD', pod('r')), bad), CniErrorCode.invalidNetworkConfig);
    expect(error.details).toContain('ipam.subnet');
    expect(error.details).toContain('10.244.0.0/24');
  });

  it('answers an unreachable agent on ADD with code 11', async () => {
    const noAgent = { ...config, agentSocket: join(workDir, 'no-agent.sock') };
    expectCode(await inNode(cniEnvFor('ADD', pod('r')), noAgent), CniErrorCode.tryAgainLater);
  });

  it('rolls back the veth pair and the address when the agent is unreachable', async () => {
    const noAgent = { ...config, agentSocket: join(workDir, 'no-agent.sock') };
    const before = await ipamFiles(config);
    expectCode(await inNode(cniEnvFor('ADD', pod('r')), noAgent), CniErrorCode.tryAgainLater);
    expect(await linkExists(nodeNs, hostIfnameFor(pod('r').containerId))).toBe(false);
    expect(await linkExists(podNs('r'), 'eth0')).toBe(false);
    expect(await ipamFiles(config)).toEqual(before);
    expect(await registeredContainerIds()).not.toContain(pod('r').containerId);
  });

  it('withdraws a registration the agent answers too late (DELETE) and rolls back the veth pair and the address', async () => {
    const lateAgent = await lateAnsweringAgent(join(workDir, 'late-agent.sock'));
    try {
      const late = { ...config, agentSocket: lateAgent.socketPath, agentTimeoutMs: 300 };
      const before = await ipamFiles(config);
      const error = expectCode(await inNode(cniEnvFor('ADD', pod('r')), late), CniErrorCode.tryAgainLater);
      expect(error.details).toContain('no answer within 300 ms');
      expect(lateAgent.requests).toEqual(['POST /v1/endpoints', `DELETE /v1/endpoints/${pod('r').containerId}`]);
      expect(await linkExists(nodeNs, hostIfnameFor(pod('r').containerId))).toBe(false);
      expect(await linkExists(podNs('r'), 'eth0')).toBe(false);
      expect(await ipamFiles(config)).toEqual(before);
    } finally {
      await lateAgent.close();
    }
  });

  // A real refusal: CNI allows container ids of any length, the agent takes at most 128 characters
  // (it keeps endpoint state in a file named after the id) and answers a longer one with HTTP 400.
  // The other 102 case, a 2xx answer with a malformed body, is one the real agent never gives; the
  // agent client's own tests (agentClient.test.ts) cover it.
  it('answers an endpoint the agent refuses with code 102 and rolls back', async () => {
    const refused = pod('r', `ctr-${testId}-${'long'.repeat(32)}`);
    const before = await ipamFiles(config);
    const error = expectCode(await inNode(cniEnvFor('ADD', refused), config), CniErrorCode.agentRejected);
    expect(error.details).toContain('HTTP 400');
    expect(error.details).toContain('invalid endpoint: containerId');
    expect(await linkExists(nodeNs, hostIfnameFor(refused.containerId))).toBe(false);
    expect(await linkExists(podNs('r'), 'eth0')).toBe(false);
    expect(await ipamFiles(config)).toEqual(before);
    expect(await registeredContainerIds()).not.toContain(refused.containerId);
  });

  it('answers an exhausted range with code 100 and creates no veth', async () => {
    const tiny = { ...config, ipam: { ...config.ipam, subnet: '10.244.9.0/30', dataDir: join(workDir, 'tiny-ipam') } };
    await mkdir(tiny.ipam.dataDir, { recursive: true });
    await writeFile(join(tiny.ipam.dataDir, '10.244.9.2'), JSON.stringify({ containerId: 'someone-else', ifname: 'eth0' }));
    expectCode(await inNode(cniEnvFor('ADD', pod('r')), tiny), CniErrorCode.ipRangeExhausted);
    expect(await linkExists(nodeNs, hostIfnameFor(pod('r').containerId))).toBe(false);
  });

  it('answers an IPAM data directory that cannot be created with code 5', async () => {
    const blocker = join(workDir, 'not-a-directory');
    await writeFile(blocker, '');
    const blocked = { ...config, ipam: { ...config.ipam, dataDir: join(blocker, 'ipam') } };
    const error = expectCode(await inNode(cniEnvFor('ADD', pod('r')), blocked), CniErrorCode.ioFailure);
    expect(error.details).toContain(blocker);
  });
});

describe('tycho-cni concurrent ADD', () => {
  it('gives pods added at the same time distinct addresses', async () => {
    const pods = ['c1', 'c2', 'c3'].map((suffix) => pod(suffix));
    const outcomes = await Promise.all(pods.map((attached) => inNode(cniEnvFor('ADD', attached), config)));
    const addresses = outcomes.map((outcome) => cniResultSchema.parse(expectOk(outcome)).ips[0]?.address);
    expect(new Set(addresses).size).toBe(3);
  });

  it('gets every one of them registered with the agent under its own endpoint id', async () => {
    const containerIds = ['c1', 'c2', 'c3'].map((suffix) => pod(suffix).containerId);
    const registered = (await agentEndpoints()).filter((endpoint) => containerIds.includes(endpoint.containerId));
    expect(registered.map((endpoint) => endpoint.containerId).sort()).toEqual([...containerIds].sort());
    expect(new Set(registered.map((endpoint) => endpoint.id)).size).toBe(3);
  });
});
