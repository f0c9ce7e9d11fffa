// The endpoint programs on a real veth: attached from a child process in a
// network namespace (with tcx links, Linux 6.18 has them), they report a real
// TCP connection through the ring buffer reader, stay attached when the
// datapath closes, and detaching leaves nothing behind.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FlowEvent } from './codecs.ts';
import { IpProto, ObsPoint, TcpFlag, TraceReason } from './constants.ts';
import type { HookProgram } from './endpointHooks.ts';

const id = randomBytes(3).toString('hex');
const HOST_NS = `tycho-t-dp-${id}-host`;
const POD_NS = `tycho-t-dp-${id}-pod`;
const HOST_IF = 'tdp-host';
const POD_IF = 'tdp-pod';
const HOST_IP = '10.99.0.1';
const POD_IP = '10.99.0.2';
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./endpointAttach.fixture.ts', import.meta.url));
const HOOK_PROGRAMS_MAIN = fileURLToPath(new URL('./hookProgramsMain.ts', import.meta.url));

interface FixtureMessage {
  ready?: { ifindex: number; programs: HookProgram[] };
  events?: FlowEvent[];
  restarted?: { closed: HookProgram[]; reattached: HookProgram[] };
  reused?: { programs: HookProgram[] };
  detached?: { programs: HookProgram[]; linkDirExists: boolean };
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

let fixture: ChildProcessWithoutNullStreams | undefined;
const messages: FixtureMessage[] = [];
// Each returns true once settled; the others are asked again on the next message.
let waiters: (() => boolean)[] = [];
let fixtureStderr = '';

/** Resolves with the first value `pick` finds in the messages so far or to come. */
function waitFor<T>(pick: (messages: FixtureMessage[]) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const found = pick(messages);
      if (found !== undefined) resolve(found);
      else if (fixture?.exitCode !== null) reject(new Error(`fixture exited (${fixture?.exitCode}): ${fixtureStderr}`));
      else return false;
      return true;
    };
    if (!check()) waiters.push(check);
  });
}

const events = (): FlowEvent[] => messages.flatMap((m) => m.events ?? []);
const tcFilters = (hook: string): string =>
  execFileSync('ip', ['netns', 'exec', HOST_NS, 'tc', 'filter', 'show', 'dev', HOST_IF, hook], { encoding: 'utf8' });
/** The endpoint programs, one per hook, as tcx links. */
const endpointPrograms = [
  { hook: 'tcx', direction: 'ingress', name: 'from_container' },
  { hook: 'tcx', direction: 'egress', name: 'to_container' },
];

beforeAll(() => {
  ip('netns', 'add', HOST_NS);
  ip('netns', 'add', POD_NS);
  ip('-n', HOST_NS, 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', POD_IF, 'netns', POD_NS);
  ip('-n', HOST_NS, 'addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF);
  ip('-n', POD_NS, 'addr', 'add', `${POD_IP}/24`, 'dev', POD_IF);
  for (const [ns, dev] of [[HOST_NS, HOST_IF], [POD_NS, POD_IF], [HOST_NS, 'lo'], [POD_NS, 'lo']] as const) {
    ip('-n', ns, 'link', 'set', dev, 'up');
  }

  fixture = spawn('ip', ['netns', 'exec', HOST_NS, 'node', '--import', 'tsx', FIXTURE, `/sys/fs/bpf/tycho-test-${id}`, HOST_IF, HOST_IP], {
    cwd: REPO_ROOT,
  });
  fixture.stderr.on('data', (chunk: Buffer) => (fixtureStderr += chunk.toString()));
  const wake = (): void => {
    waiters = waiters.filter((settled) => !settled());
  };
  createInterface({ input: fixture.stdout }).on('line', (line) => {
    messages.push(JSON.parse(line) as FixtureMessage);
    wake();
  });
  fixture.on('exit', wake);
});

afterAll(() => {
  if (fixture && fixture.exitCode === null) fixture.kill('SIGKILL');
  for (const ns of [HOST_NS, POD_NS]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // Already gone, e.g. when setup failed half-way.
    }
  }
});

describe('endpoint programs on a veth', () => {
  it('attaching puts from_container on the ingress and to_container on the egress hook, as tcx links', async () => {
    const ready = await waitFor((all) => all.find((m) => m.ready)?.ready);
    expect(ready.programs).toMatchObject(endpointPrograms);
    expect(ready.programs[0]?.id).not.toBe(ready.programs[1]?.id);
  });

  it('attaching again replaced the programs instead of adding any', async () => {
    const ready = await waitFor((all) => all.find((m) => m.ready)?.ready);
    expect(ready.programs).toHaveLength(2);
    // No clsact filter either (checked with tc itself).
    for (const hook of ['ingress', 'egress']) expect(tcFilters(hook)).toBe('');
  });

  it('hookProgramsMain lists the same programs from inside the namespace', async () => {
    const ready = await waitFor((all) => all.find((m) => m.ready)?.ready);
    const out = execFileSync('ip', ['netns', 'exec', HOST_NS, 'node', '--import', 'tsx', HOOK_PROGRAMS_MAIN, HOST_IF], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(ready.programs);
  });

  it('a TCP connection from the pod arrives as events through the ring buffer reader', async () => {
    await waitFor((all) => all.find((m) => m.ready));
    const reply = execFileSync('ip', ['netns', 'exec', POD_NS, 'node', '-e',
      `const s = require('node:net').connect(8080, '${HOST_IP}'); s.pipe(process.stdout);`], { encoding: 'utf8' });
    expect(reply).toBe('pong');

    const isOurs = (e: FlowEvent): boolean => e.proto === IpProto.TCP && (e.dport === 8080 || e.sport === 8080);
    // The connection closes from both sides: wait for both FINs.
    await waitFor(() => (events().filter((e) => isOurs(e) && e.tcpFlags & TcpFlag.FIN).length >= 2 ? true : undefined));
    const ours = events().filter(isOurs);
    const clientPort = ours[0]?.sport;
    expect(ours[0]).toMatchObject({
      subType: TraceReason.NEW, obsPoint: ObsPoint.FROM_ENDPOINT, isReply: false, tcpFlags: TcpFlag.SYN,
      saddr: POD_IP, daddr: HOST_IP, dport: 8080, endpointId: 7, srcIdentity: 256,
    });
    expect(ours[1]).toMatchObject({
      subType: TraceReason.FLAGS, obsPoint: ObsPoint.TO_ENDPOINT, isReply: true, tcpFlags: TcpFlag.SYN | TcpFlag.ACK,
      saddr: HOST_IP, daddr: POD_IP, sport: 8080, dport: clientPort,
    });
    expect(ours.filter((e) => e.tcpFlags & TcpFlag.FIN).map((e) => e.isReply).sort()).toEqual([false, true]);
  });

  it('the programs stay attached when the datapath closes, and a new one replaces them through the pins', async () => {
    const ready = await waitFor((all) => all.find((m) => m.ready)?.ready);
    fixture?.stdin.write('restart\n');
    const restarted = await waitFor((all) => all.find((m) => m.restarted)?.restarted);
    expect(restarted.closed).toEqual(ready.programs);
    expect(restarted.reattached).toMatchObject(endpointPrograms);
    expect(restarted.reattached.map((p) => p.id)).not.toEqual(ready.programs.map((p) => p.id));
  });

  it('attaching to an interface that took the ifindex of a deleted one replaces its defunct links', async () => {
    await waitFor((all) => all.find((m) => m.ready));
    fixture?.stdin.write('reuse\n');
    const reused = await waitFor((all) => all.find((m) => m.reused)?.reused);
    expect(reused.programs).toMatchObject(endpointPrograms);
    expect(reused.programs).toHaveLength(2);
  });

  it('detaching leaves no program on either hook and no link pinned', async () => {
    await waitFor((all) => all.find((m) => m.ready));
    fixture?.stdin.write('detach\n');
    const detached = await waitFor((all) => all.find((m) => m.detached)?.detached);
    expect(detached).toEqual({ programs: [], linkDirExists: false });
    // Checked independently of libbpf, with tc itself.
    for (const hook of ['ingress', 'egress']) expect(tcFilters(hook)).toBe('');
  });
});
