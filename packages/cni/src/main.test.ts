// End-to-end tests of the tycho-cni binary: each test runs the real plugin as a child process
// inside a throwaway node namespace, against throwaway pod namespaces.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cniConfigFor, type TychoCniConfig } from './cniConfig.ts';
import { CniErrorCode } from './cniError.ts';
import { cniResultSchema, type CniResult } from './cniResult.ts';
import { cniEnvFor, runCni, type CniOutcome, type PodAttachment } from './runCni.ts';
import { hostIfnameFor } from './veth.ts';

const run = promisify(execFile);

const testId = randomBytes(3).toString('hex');
const nodeNs = `tycho-t-cni-${testId}-node`;
const podNs = (suffix: string) => `tycho-t-cni-${testId}-pod-${suffix}`;
const podNetnsPath = (suffix: string) => `/var/run/netns/${podNs(suffix)}`;
const podSuffixes = ['a', 'b', 'r', 'v', 'c1', 'c2', 'c3'] as const;

const podCidr = '10.244.7.0/24';
let workDir: string;
let config: TychoCniConfig;
let agent: RecordingAgentStandIn;

function pod(suffix: string, containerId = `ctr-${testId}-${suffix}`): PodAttachment {
  return { containerId, netns: podNetnsPath(suffix), podNamespace: 'default', podName: `pod-${suffix}` };
}

function inNode(env: Record<string, string>, stdin: string | object): Promise<CniOutcome> {
  return runCni(env, stdin, { nodeNetns: nodeNs });
}

async function ipJson(ns: string, args: string[]): Promise<Array<Record<string, unknown>>> {
  const { stdout } = await run('ip', ['-n', ns, '-j', ...args]);
  return JSON.parse(stdout === '' ? '[]' : stdout) as Array<Record<string, unknown>>;
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

/**
 * Recording stand-in for the node agent's endpoint API (docs/contracts.md): answers
 * `POST /v1/endpoints` with 201 {id, identity} and `DELETE /v1/endpoints/:id` with 204, and
 * keeps every call so tests can assert what the plugin registered. Not the real agent.
 */
interface RecordingAgentStandIn {
  calls: Array<{ method: string; url: string; body: unknown }>;
  server: Server;
}

async function startRecordingAgentStandIn(socketPath: string): Promise<RecordingAgentStandIn> {
  const calls: RecordingAgentStandIn['calls'] = [];
  let nextId = 1;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      calls.push({ method: req.method ?? '', url: req.url ?? '', body: text === '' ? undefined : JSON.parse(text) });
      if (req.method === 'POST' && req.url === '/v1/endpoints') {
        const id = nextId++;
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id, identity: 255 + id }));
      } else if (req.method === 'DELETE' && req.url?.startsWith('/v1/endpoints/')) {
        res.writeHead(204).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { calls, server };
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), `tycho-t-cni-${testId}-`));
  config = cniConfigFor({ name: 'node-t', podCidr }, { runDir: workDir });
  await mkdir(join(workDir, 'node-t'), { recursive: true });
  agent = await startRecordingAgentStandIn(config.agentSocket);
  for (const ns of [nodeNs, ...podSuffixes.map(podNs)]) await run('ip', ['netns', 'add', ns]);
});

afterAll(async () => {
  await new Promise((resolve) => agent?.server.close(resolve));
  for (const ns of [nodeNs, ...podSuffixes.map(podNs)]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
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

  it('registers the endpoint with the agent', async () => {
    const [link] = await ipJson(nodeNs, ['link', 'show', 'dev', hostIfname]);
    expect(agent.calls).toContainEqual({
      method: 'POST',
      url: '/v1/endpoints',
      body: {
        containerId: attached.containerId,
        podName: 'pod-a',
        namespace: 'default',
        netns: attached.netns,
        ifname: 'eth0',
        hostIfname,
        hostIfindex: link?.['ifindex'],
        ipv4: '10.244.7.2',
      },
    });
  });

  it('refuses an interface name that already exists in the pod and leaks no address', async () => {
    const intruder = pod('a', `ctr-${testId}-intruder`);
    const before = await ipamFiles(config);
    const error = expectCode(await inNode(cniEnvFor('ADD', intruder), config), CniErrorCode.interfaceSetupFailed);
    expect(error.details).toContain('eth0 already exists');
    expect(await ipamFiles(config)).toEqual(before);
    expect(await linkExists(nodeNs, hostIfnameFor(intruder.containerId))).toBe(false);
  });

  it('answers a 0.4.0 configuration with a 0.4.0 result (ips carry version "4")', async () => {
    const legacy = pod('v');
    const output = expectOk(await inNode(cniEnvFor('ADD', legacy), { ...config, cniVersion: '0.4.0' }));
    expect(output).toMatchObject({ cniVersion: '0.4.0', ips: [{ version: '4', interface: 1, gateway: '169.254.1.1' }] });
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

  beforeAll(async () => {
    const result = cniResultSchema.parse(expectOk(await inNode(cniEnvFor('ADD', attached), config)));
    address = result.ips[0]?.address.split('/')[0] ?? '';
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

  it('deregisters the endpoint from the agent', () => {
    expect(agent.calls).toContainEqual({ method: 'DELETE', url: `/v1/endpoints/${attached.containerId}`, body: undefined });
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
  });

  it('answers an agent that refuses the endpoint with code 102 and rolls back', async () => {
    const refusingSocket = join(workDir, 'refusing-agent.sock');
    const refusing = createServer((_req, res) => res.writeHead(500).end('identity allocation failed'));
    await new Promise<void>((resolve) => refusing.listen(refusingSocket, resolve));
    try {
      const before = await ipamFiles(config);
      const error = expectCode(await inNode(cniEnvFor('ADD', pod('r')), { ...config, agentSocket: refusingSocket }), CniErrorCode.agentRejected);
      expect(error.details).toContain('HTTP 500: identity allocation failed');
      expect(await linkExists(nodeNs, hostIfnameFor(pod('r').containerId))).toBe(false);
      expect(await ipamFiles(config)).toEqual(before);
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
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
});
