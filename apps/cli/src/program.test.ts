import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommanderError } from 'commander';
import { createApiServer, EndpointManager, Observer, type ApiServer } from '@tycho/agent';
import type { Flow } from '@tycho/flow';
import { createProgram, type CliIo } from './program.ts';
import type { LabApi } from './labCommands.ts';

const T0 = Date.UTC(2024, 0, 1, 0, 20, 0);
let socketDir: string;
const observers = new Map<string, Observer>();
const servers: ApiServer[] = [];

function flow(node: string, second: number, overrides: Partial<Flow> = {}): Flow {
  return {
    time: new Date(T0 + second * 1000).toISOString(),
    uuid: `${node}-${second}`,
    verdict: 'FORWARDED',
    IP: { source: '10.244.0.5', destination: '10.244.1.7', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000 + second, destination_port: 8080, flags: { SYN: true } } },
    source: { ID: 3, identity: 12345, namespace: 'default', pod_name: 'pod-to-a-5f7c', labels: ['k8s:name=pod-to-a'] },
    destination: { identity: 23456, namespace: 'default', pod_name: 'echo-a-6d9c', labels: ['k8s:name=echo-a'] },
    Type: 'L3_L4',
    node_name: node,
    is_reply: false,
    event_type: { type: 4, sub_type: 5 },
    traffic_direction: 'EGRESS',
    trace_observation_point: 'FROM_ENDPOINT',
    Summary: 'TCP Flags: SYN',
    ...overrides,
  };
}

async function startAgentApi(node: string): Promise<Observer> {
  const observer = new Observer({ nodeName: node, ringCapacity: 63 });
  const endpoints = new EndpointManager({
    stateDir: join(socketDir, node),
    datapath: { attachEndpoint: () => {}, detachEndpoint: () => {} },
    resolvePod: () => ({ identity: 256, labels: [], workloads: [] }),
  });
  const api = createApiServer({ observer, endpoints });
  await api.listen(join(socketDir, node, 'agent.sock'));
  servers.push(api);
  observers.set(node, observer);
  return observer;
}

async function tycho(args: string[], extra: Partial<CliIo> = {}): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const program = createProgram({ stdout: (t) => (out += t), stderr: (t) => (err += t), timeZone: 'utc', ...extra });
  try {
    await program.parseAsync(['node', 'tycho', ...args]);
    return { out, err, exitCode: 0 };
  } catch (error) {
    if (error instanceof CommanderError) return { out, err, exitCode: error.exitCode };
    return { out, err: err + (error as Error).message, exitCode: 1 };
  }
}

const observeArgs = (...args: string[]) => ['observe', '--socket-dir', socketDir, ...args];

beforeEach(async () => {
  socketDir = mkdtempSync(join(tmpdir(), 'tycho-cli-'));
  await startAgentApi('node-1');
  await startAgentApi('node-2');
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  observers.clear();
  rmSync(socketDir, { recursive: true, force: true });
});

function publish(node: string, ...seconds: number[]): void {
  for (const second of seconds) observers.get(node)?.publish(flow(node, second));
}

describe('tycho observe', () => {
  it('prints the last 20 flows of all nodes in compact form, merged by time', async () => {
    publish('node-1', ...Array.from({ length: 15 }, (_, i) => i * 2));
    publish('node-2', ...Array.from({ length: 15 }, (_, i) => i * 2 + 1));
    const { out, exitCode } = await tycho(observeArgs());
    expect(exitCode).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(20);
    expect(lines[0]).toBe(
      'Jan  1 00:20:10.000: default/pod-to-a-5f7c:40010 (ID:12345) -> default/echo-a-6d9c:8080 (ID:23456) from-endpoint FORWARDED (TCP Flags: SYN)',
    );
    expect(lines[19]).toMatch(/^Jan {2}1 00:20:29\.000: default\/pod-to-a-5f7c:40029 /);
  });

  it('prints the first N flows with --first', async () => {
    publish('node-1', 1, 3, 5);
    publish('node-2', 2, 4);
    const { out } = await tycho(observeArgs('--first', '3'));
    expect(out.trimEnd().split('\n').map((line) => line.slice(0, 20))).toEqual([
      'Jan  1 00:20:01.000:',
      'Jan  1 00:20:02.000:',
      'Jan  1 00:20:03.000:',
    ]);
  });

  it('adds the node name with --print-node-name and reads only the nodes asked for', async () => {
    publish('node-1', 1);
    publish('node-2', 2);
    const { out } = await tycho(observeArgs('--print-node-name', '--node', 'node-2'));
    expect(out).toMatch(/^Jan {2}1 00:20:02\.000 \[node-2\]: default\/pod-to-a-5f7c:40002 \(ID:12345\) -> /);
    expect(out.trimEnd().split('\n')).toHaveLength(1);
  });

  it('prints GetFlowsResponse JSON lines with -o json', async () => {
    publish('node-1', 1);
    const { out } = await tycho(observeArgs('-o', 'json'));
    expect(JSON.parse(out)).toEqual({ flow: flow('node-1', 1), node_name: 'node-1', time: flow('node-1', 1).time });
  });

  it('prints replies from the client side and reserved identities by name', async () => {
    observers.get('node-1')?.publish(
      flow('node-1', 1, {
        IP: { source: '192.0.2.10', destination: '10.244.0.5', ipVersion: 'IPv4' },
        l4: { TCP: { source_port: 443, destination_port: 40001, flags: { SYN: true, ACK: true } } },
        source: { identity: 2, labels: ['reserved:world'] },
        destination: { ID: 3, identity: 12345, namespace: 'default', pod_name: 'pod-to-a-5f7c' },
        is_reply: true,
        event_type: { type: 4 },
        Summary: 'TCP Flags: SYN, ACK',
      }),
    );
    const { out } = await tycho(observeArgs());
    expect(out.trimEnd()).toBe(
      'Jan  1 00:20:01.000: default/pod-to-a-5f7c:40001 (ID:12345) <- 192.0.2.10:443 (world) to-endpoint FORWARDED (TCP Flags: SYN, ACK)',
    );
  });

  it('selects by --since (a duration ago) and --until (RFC 3339)', async () => {
    const now = Date.now();
    const at = (msAgo: number, uuid: string) => ({ ...flow('node-1', 0), time: new Date(now - msAgo).toISOString(), uuid });
    observers.get('node-1')?.publish(at(600_000, 'ten-minutes-ago'));
    observers.get('node-1')?.publish(at(120_000, 'two-minutes-ago'));
    observers.get('node-1')?.publish(at(10_000, 'ten-seconds-ago'));
    const since = await tycho(observeArgs('--since', '5m', '-o', 'json'));
    expect(since.out.trimEnd().split('\n').map((line) => (JSON.parse(line) as { flow: Flow }).flow.uuid)).toEqual(['two-minutes-ago', 'ten-seconds-ago']);
    const until = await tycho(observeArgs('--until', new Date(now - 60_000).toISOString(), '-o', 'json'));
    expect(until.out.trimEnd().split('\n').map((line) => (JSON.parse(line) as { flow: Flow }).flow.uuid)).toEqual(['ten-minutes-ago', 'two-minutes-ago']);
  });

  it('prints lost events', async () => {
    observers.get('node-2')?.reportLost('PERF_EVENT_RING_BUFFER', 3);
    const { out } = await tycho(observeArgs('--all'));
    expect(out).toBe('EVENTS LOST: PERF_EVENT_RING_BUFFER CPU(0) 3\n');
  });

  it('follows new flows until stopped', async () => {
    publish('node-1', 1);
    const stop = new AbortController();
    let seen = 0;
    const run = tycho(observeArgs('-f', '--last', '1', '--node', 'node-1'), {
      stopSignal: stop.signal,
      stdout: (text) => {
        seen += text.split('\n').length - 1;
        if (seen === 1) publish('node-1', 2);
        if (seen === 2) stop.abort();
      },
    });
    await run;
    expect(seen).toBe(2);
  });

  it('reports a node whose agent does not answer and prints the others', async () => {
    publish('node-1', 1);
    await servers[1]?.close();
    mkdirSync(join(socketDir, 'node-3'));
    writeFileSync(join(socketDir, 'node-3', 'agent.sock'), '');
    const { out, err, exitCode } = await tycho(observeArgs());
    expect(exitCode).toBe(0);
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(err).toMatch(/node-3: cannot observe through .*node-3\/agent\.sock/);
  });

  it('names the node it cannot find and lists the ones it found', async () => {
    const { err, exitCode } = await tycho(observeArgs('--node', 'node-9'));
    expect(exitCode).toBe(1);
    expect(err).toMatch(/no agent for node 'node-9' .* agents found: node-1, node-2/);
  });

  it('says where it looked when no agents run', async () => {
    const { err } = await tycho(['observe', '--socket-dir', join(socketDir, 'nothing-here')]);
    expect(err).toMatch(/no agents found: nothing matches .*nothing-here\/\*\/agent\.sock/);
  });

  it.each([
    [['--since', 'yesterday'], /--since 'yesterday': expected a duration such as 30s/],
    [['--until', '100000000000h'], /^--until '100000000000h': reaches back before 1970-01-01T00:00:00Z; expected a duration of at most \d+h or an RFC 3339 time/],
    [['--since', '2024-02-30T00:00:00Z'], /^--since '2024-02-30T00:00:00Z': not a real time: day 30 does not exist in 2024-02 \(it has 29 days\); expected a duration/],
    [['--namespace', 'n'.repeat(100)], /^invalid --namespace value: 'n{40}…' is 100 characters long; a namespace name has at most 63/],
    [['--http-path', '(a)\\1'], /http_path\[0\]: "\(a\)\\\\1" is not a valid regular expression \(RE2 syntax, as Hubble's\): invalid escape sequence/],
    [['--last', '0'], /option '--last <n>' argument '0' is invalid/],
    [['--last', '9007199254740992'], /option '--last <n>' argument '9007199254740992' is invalid\. expected a whole number from 1 to 9007199254740991/],
    [['--first', '1'.repeat(30)], /option '--first <n>' argument '1+' is invalid\. expected a whole number from 1 to 9007199254740991/],
    [['--last', '2', '--first', '2'], /--last and --first cannot be used together/],
    [['--first', '2', '--follow'], /--first cannot be used with --follow/],
    [['-o', 'yaml'], /argument 'yaml' is invalid. Allowed choices are compact, json/],
  ])('rejects %j with a message saying why', async (args, message) => {
    const { err, exitCode } = await tycho(observeArgs(...args));
    expect(exitCode).not.toBe(0);
    expect(err).toMatch(message);
  });

  it('rejects a --since of 1 and 400 zeros h naming the flag and the forms it takes', async () => {
    const { err, exitCode } = await tycho(observeArgs('--since', `1${'0'.repeat(400)}h`));
    expect(exitCode).not.toBe(0);
    expect(err).toMatch(/^--since '10{39}…': reaches back before 1970-01-01T00:00:00Z; expected a duration of at most \d+h or an RFC 3339 time such as 2024-01-01T00:00:00Z$/);
  });

  it('asks the agents for flows matching the filter flags, --not ones left out', async () => {
    observers.get('node-1')?.publish(flow('node-1', 1, { uuid: 'to-echo' }));
    observers.get('node-1')?.publish(flow('node-1', 2, { uuid: 'dropped', verdict: 'DROPPED', event_type: { type: 1, sub_type: 133 } }));
    observers.get('node-1')?.publish(flow('node-1', 3, { uuid: 'elsewhere', destination: { identity: 2 } }));
    const { out, exitCode } = await tycho(observeArgs('--pod', 'default/echo-a', '--not', '--verdict', 'DROPPED', '-o', 'json'));
    expect(exitCode).toBe(0);
    expect(out.trimEnd().split('\n').map((line) => (JSON.parse(line) as { flow: Flow }).flow.uuid)).toEqual(['to-echo']);
  });

  it('rejects an invalid filter value naming the field', async () => {
    const { err, exitCode } = await tycho(observeArgs('--ip', '10.0.0.0/33'));
    expect(exitCode).not.toBe(0);
    expect(err).toMatch(/whitelist\[0\]\.source_ip\[0\]: "10\.0\.0\.0\/33" is not an IP address or CIDR/);
  });

  it('prints the whole GetFlowsResponse per line with -o jsonpb', async () => {
    publish('node-1', 1);
    const { out } = await tycho(observeArgs('-o', 'jsonpb'));
    expect(out).toBe(`${JSON.stringify({ flow: flow('node-1', 1), node_name: 'node-1', time: flow('node-1', 1).time })}\n`);
  });

  it('prints dict blocks separated by dashes with -o dict', async () => {
    publish('node-1', 1, 2);
    const { out } = await tycho(observeArgs('-o', 'dict'));
    const block = (second: number) =>
      [
        `  TIMESTAMP: Jan  1 00:20:0${second}.000`,
        `     SOURCE: default/pod-to-a-5f7c:4000${second}`,
        'DESTINATION: default/echo-a-6d9c:8080',
        '       TYPE: from-endpoint',
        '    VERDICT: FORWARDED',
        '    SUMMARY: TCP Flags: SYN',
      ].join('\n');
    expect(out).toBe(`${block(1)}\n------------\n${block(2)}\n`);
  });

  it('prints a table with a NODE column with -o table --print-node-name', async () => {
    publish('node-1', 1);
    const { out } = await tycho(observeArgs('-o', 'table', '--print-node-name'));
    const row = (...cells: [string, number][]) => cells.map(([text, width]) => text.padEnd(width)).join('');
    expect(out).toBe(
      `${row(['TIMESTAMP', 22], ['NODE', 9], ['SOURCE', 30], ['DESTINATION', 27], ['TYPE', 16], ['VERDICT', 12], ['SUMMARY', 0])}\n` +
        `${row(['Jan  1 00:20:01.000', 22], ['node-1', 9], ['default/pod-to-a-5f7c:40001', 30], ['default/echo-a-6d9c:8080', 27], ['from-endpoint', 16], ['FORWARDED', 12], ['TCP Flags: SYN', 0])}\n`,
    );
  });

  it('refuses -o table with --follow', async () => {
    const { err, exitCode } = await tycho(observeArgs('-o', 'table', '--follow'));
    expect(exitCode).not.toBe(0);
    expect(err).toMatch(/-o table cannot be used with --follow/);
  });

  it('documents every option in --help', async () => {
    const { out } = await tycho(['observe', '--help']);
    const options = ['--last', '--first', '--all', '--follow', '--since', '--until', '--node', '--socket-dir', '--output', '--print-node-name', '--not', '--pod', '--from-pod', '--to-pod', '--namespace', '--from-namespace', '--to-namespace', '--ip', '--from-ip', '--to-ip', '--label', '--from-label', '--to-label', '--fqdn', '--from-fqdn', '--to-fqdn', '--service', '--from-service', '--to-service', '--workload', '--from-workload', '--to-workload', '--identity', '--from-identity', '--to-identity', '--port', '--from-port', '--to-port', '--verdict', '--type', '--protocol', '--http-status', '--http-method', '--http-path', '--tcp-flags', '--node-name', '--ipv4', '--ipv6'];
    for (const option of options) {
      expect(out).toContain(option);
    }
  });
});

describe('tycho status and tycho nodes without the API', () => {
  // Port 9 (discard) on localhost: nothing listens, the API is unreachable.
  const noApi = ['--server', 'http://127.0.0.1:9', '--socket-dir'];

  it('asks the agents directly and prints the summed Hubble line', async () => {
    publish('node-1', 1, 2);
    publish('node-2', 3);
    const { out, exitCode } = await tycho(['status', ...noApi, socketDir]);
    expect(exitCode).toBe(0);
    expect(out).toMatch(/^API: Unreachable {3}http:\/\/127\.0\.0\.1:9: .*; asked the agents in .* directly$/m);
    expect(out).toMatch(/^Hubble: Ok {3}Current\/Max Flows: 3\/126 \(2\.38%\), Flows\/s: \d+\.\d\d$/m);
    expect(out).toMatch(/^Connected Nodes: 2\/2$/m);
  });

  it('fails when no agent answers', async () => {
    const { out, exitCode } = await tycho(['status', ...noApi, join(socketDir, 'empty')]);
    expect(exitCode).not.toBe(0);
    expect(out).toMatch(/^Hubble: Unavailable/m);
  });

  it('lists the nodes from the agents', async () => {
    publish('node-1', 1);
    const { out, exitCode } = await tycho(['nodes', ...noApi, socketDir]);
    expect(exitCode).toBe(0);
    const [header, first, second] = out.trimEnd().split('\n');
    expect(header).toMatch(/^NAME {5}STATUS {6}AGE +FLOWS\/S +CURRENT\/MAX-FLOWS$/);
    expect(first).toMatch(/^node-1 {3}Connected {3}\d+s +\d+\.\d\d +1\/63 \( {2}1\.59%\)$/);
    expect(second).toMatch(/^node-2 {3}Connected /);
  });
});

describe('tycho lab', () => {
  function recordingLab(calls: string[]): () => Promise<LabApi> {
    return async () => ({
      labUp: async (opts) => void calls.push(`up ${JSON.stringify(opts)}`),
      labDown: async () => void calls.push('down'),
      labStatus: async () => 'NODE    AGENT\nnode-1  running',
      connectivityTest: async (opts) => {
        calls.push(`connectivity ${JSON.stringify(opts)}`);
        return { passed: opts.namespace !== 'broken', text: `report for ${opts.namespace}` };
      },
    });
  }

  it('passes --detach and -f manifests to labUp', async () => {
    const calls: string[] = [];
    await tycho(['lab', 'up', '--detach', '-f', 'a.yaml', 'b.yaml'], { lab: recordingLab(calls) });
    expect(calls).toEqual(['up {"manifests":["a.yaml","b.yaml"],"detach":true}']);
  });

  it('runs labDown and prints labStatus', async () => {
    const calls: string[] = [];
    await tycho(['lab', 'down'], { lab: recordingLab(calls) });
    const { out } = await tycho(['lab', 'status'], { lab: recordingLab(calls) });
    expect(calls).toEqual(['down']);
    expect(out).toBe('NODE    AGENT\nnode-1  running\n');
  });

  it('connectivity test prints the report and exits 0 when every check passes', async () => {
    const calls: string[] = [];
    const { out, exitCode } = await tycho(['connectivity', 'test', '--timeout', '90'], { lab: recordingLab(calls) });
    expect(calls).toEqual(['connectivity {"namespace":"default","timeoutMs":90000}']);
    expect(out).toBe('report for default\n');
    expect(exitCode).toBe(0);
  });

  it('connectivity test exits 1 when a check fails, and refuses a bad --timeout', async () => {
    const failed = await tycho(['connectivity', 'test', '-n', 'broken'], { lab: recordingLab([]) });
    expect(failed.out).toBe('report for broken\n');
    expect(failed.exitCode).toBe(1);
    const bad = await tycho(['connectivity', 'test', '--timeout', '5m'], { lab: recordingLab([]) });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.err).toContain("expected a positive number of seconds up to 86400 (24h), got '5m'");
  });

  it.each([
    ['86401', '86401'],
    ['a trillion', '1000000000000'],
    ['1 and 400 zeros', `1${'0'.repeat(400)}`],
  ])('connectivity test refuses --timeout %s (beyond a day), naming the flag and the range', async (_, timeout) => {
    const calls: string[] = [];
    const { err, exitCode } = await tycho(['connectivity', 'test', '--timeout', timeout], { lab: recordingLab(calls) });
    expect(exitCode).not.toBe(0);
    expect(err).toContain("option '--timeout <seconds>' argument");
    expect(err).toContain('expected a positive number of seconds up to 86400 (24h)');
    expect(calls).toEqual([]);
  });
});
