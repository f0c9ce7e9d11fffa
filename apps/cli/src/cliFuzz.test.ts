// Fuzz test of the command line: generated argv for observe, status, nodes, service and policy,
// run by the real program in-process (many) and by the real bin (a few). Every run ends quickly
// in a result or a clear error (commander's, or an Error with a message), never a TypeError,
// RangeError or stack trace; no agent runs, so commands that need one must fail fast.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abbreviated, fuzzParameters, fuzzTimeoutMs, hostileString, hostileTime, HOSTILE_REGEXES, hugeDuration, longString, STACK_FRAME, withDisplay } from '@tycho/fuzz';
import { createCiliumCrds, startTestApiServer, type TestApiServer } from '@tycho/kube/labApiServer.fixture';
import { createProgram } from './program.ts';

const tychoBin = fileURLToPath(new URL('../bin/tycho.mjs', import.meta.url));
/** A run slower than this stalled: with no agent and a closed API port every command has an answer at once. */
const STALL_MS = 10_000;

let dir: string;
/** No agent sockets here: observe, service list and status find nothing to ask. */
let emptySocketDir: string;
/** A scratch Kubernetes API (the lab's server double) for the policy commands, and its kubeconfig. */
let kubeApi: TestApiServer;
let kubeconfig: string;
/** A loopback URL nothing listens on. */
let closedApi: string;
/** Policy files to apply or delete: valid, invalid, not YAML, deeply nested, huge. */
let policyFiles: string[];

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-cli-fuzz-'));
  emptySocketDir = join(dir, 'run');
  mkdirSync(emptySocketDir);
  kubeApi = await startTestApiServer();
  createCiliumCrds(kubeApi.store);
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, (await kubeApi.kubeConfig()).exportConfig());
  closedApi = `http://127.0.0.1:${await closedPort()}`;
  const files: Record<string, string> = {
    'allow.yaml': 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: allow, namespace: default}\nspec:\n  endpointSelector: {matchLabels: {app: echo-a}}\n  ingress: [{fromEndpoints: [{matchLabels: {app: pod-to-a}}]}]\n',
    'invalid.yaml': 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: Bad_Name}\nspec: {endpointSelector: 5}\n',
    'not-yaml.yaml': '{[: ::\n\t- "unterminated\n',
    'deep.json': `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    'deep.yaml': `${'- '.repeat(5_000)}x\n`,
    'aliases.yaml': 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n',
    'huge.yaml': `kind: CiliumNetworkPolicy\nmetadata: {name: huge, namespace: default}\nspec: {endpointSelector: {}, description: "${'x'.repeat(2_000_000)}"}\n`,
    'proto.yaml': 'apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n__proto__: {polluted: true}\nmetadata: {name: proto, namespace: default, constructor: {prototype: {x: 1}}}\nspec: {endpointSelector: {}}\n',
    'empty.yaml': '',
  };
  policyFiles = Object.entries(files).map(([name, text]) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  });
  policyFiles.push(join(dir, 'missing.yaml'), dir);
});

afterAll(async () => {
  await kubeApi.close();
  rmSync(dir, { recursive: true, force: true });
});

type Argv = string[];

const count = fc.oneof(fc.constantFrom('1', '20', '0', '-1', '1.5', '1e3', '0x10', '65536', '4294967296', '99999999999999999999', ''), fc.nat().map(String), hostileString);
const namespaced = fc.oneof(fc.constantFrom('default/pod-to-a', 'kube-system/', 'echo', 'Default/x', '/', 'a/b/c'), longString(64, 5_000), hostileString);
/** Mostly one of `valid`, sometimes any text. */
const oneOfOrHostile = (...valid: string[]) => fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 3 }, { arbitrary: hostileString, weight: 1 });

/** Flags of `tycho observe` that take a value, with values for each: valid ones and hostile ones. */
const OBSERVE_VALUE_FLAGS: Record<string, fc.Arbitrary<string>> = {
  '--last': count,
  '--first': count,
  '--since': fc.oneof(hostileTime, hugeDuration),
  '--until': fc.oneof(hostileTime, hugeDuration),
  '-o': oneOfOrHostile('compact', 'json', 'jsonpb', 'dict', 'table', 'yaml'),
  '--node': oneOfOrHostile('node-1', 'node-*', '../node-1'),
  '--pod': namespaced,
  '--from-pod': namespaced,
  '--to-pod': namespaced,
  '-n': oneOfOrHostile('default', 'kube-system', 'ALL', 'a'.repeat(64)),
  '--from-namespace': oneOfOrHostile('default'),
  '--to-namespace': oneOfOrHostile('kube-system'),
  '--ip': oneOfOrHostile('10.0.0.1', '10.0.0.0/33', 'fd00::/64', '::ffff:1.2.3.4', '999.1.1.1'),
  '--from-ip': oneOfOrHostile('10.244.0.5'),
  '--to-ip': oneOfOrHostile('0.0.0.0/0'),
  '--label': oneOfOrHostile('k8s:app=echo-a', 'app in (a,b)', 'app in (', '!', '=', 'a=b=c'),
  '--from-label': oneOfOrHostile('k8s:app=pod-to-a'),
  '--fqdn': oneOfOrHostile('*.google.com', '**', '.'),
  '--service': namespaced,
  '--workload': oneOfOrHostile('Deployment/echo-a', 'echo-a', '/', 'a/b/c'),
  '--identity': oneOfOrHostile('host', 'world', '256', '-1', '4294967296', 'remote-node'),
  '--to-identity': oneOfOrHostile('1'),
  '--port': oneOfOrHostile('8080', '0', '65535', '65536', '-1', 'http'),
  '--from-port': oneOfOrHostile('53'),
  '--verdict': oneOfOrHostile('DROPPED', 'FORWARDED', 'dropped', 'BOGUS'),
  '-t': oneOfOrHostile('trace', 'drop', 'l7', 'trace:to-endpoint', 'drop:133', 'drop:999999999999', '4:', ':', '999'),
  '--protocol': oneOfOrHostile('tcp', 'UDP', 'http', 'sctp'),
  '--http-status': oneOfOrHostile('404', '4+', '40+', '6+', '99999'),
  '--http-method': oneOfOrHostile('GET', 'get', 'G E T'),
  '--http-path': oneOfOrHostile(...HOSTILE_REGEXES),
  '--tcp-flags': oneOfOrHostile('SYN', 'SYN,ACK', 'syn', ',', 'SYN,,ACK', 'BOGUS'),
  '--node-name': oneOfOrHostile('node-*', 'node-[', '**'),
};
const OBSERVE_BOOLEAN_FLAGS = ['--all', '-f', '--follow', '--print-node-name', '--not', '-4', '-6'];
/** Tokens that are no flag of the command, or flags in unusual spellings. */
const STRAY_TOKENS = fc.oneof(fc.constantFrom('--bogus', '-x', 'extra', '-', '--last=5', '--since=', '-f5', '-46', '--no-follow', '---'), hostileString.filter((token) => !token.startsWith('--socket-dir') && !token.startsWith('--server') && !token.startsWith('--kubeconfig')));

/** Flags in any order: a flag with its value, a boolean flag, or now and then a stray token. */
function flags(valueFlags: Record<string, fc.Arbitrary<string>>, booleanFlags: readonly string[], maxLength = 6): fc.Arbitrary<Argv> {
  const entries = Object.entries(valueFlags);
  const one = fc.oneof(
    ...(entries.length > 0 ? [{ arbitrary: fc.oneof(...entries.map(([flag, value]) => value.map((text) => [flag, text]))), weight: 8 }] : []),
    ...(booleanFlags.length > 0 ? [{ arbitrary: fc.constantFrom(...booleanFlags).map((flag) => [flag]), weight: 3 }] : []),
    { arbitrary: STRAY_TOKENS.map((token) => [token]), weight: 1 },
  );
  return fc.array(one, { maxLength }).map((groups) => groups.flat());
}

/**
 * Complete command lines. Each ends with the directories and URL that keep
 * it hermetic (an empty socket dir, a scratch Kubernetes API, a closed API port):
 * generated values are always consumed by their own flag, so these last
 * flags are parsed as flags and win over any earlier value.
 */
function argvs(): fc.Arbitrary<Argv> {
  const observe = flags(OBSERVE_VALUE_FLAGS, OBSERVE_BOOLEAN_FLAGS).map((argv) => ['observe', ...argv, '--socket-dir', emptySocketDir]);
  const status = fc
    .tuple(fc.constantFrom('status', 'nodes'), flags({}, [], 2), fc.option(fc.constantFrom('', 'not a url', 'http://', 'http://[::1', 'unix:/x', 'http://127.0.0.1:99999', 'ftp://127.0.0.1/')))
    .map(([command, argv, server]) => [command, ...argv, '--server', server ?? closedApi, '--socket-dir', emptySocketDir]);
  const service = flags({ '-o': oneOfOrHostile('table', 'json', 'yaml') }, ['--protocols'], 4).chain((argv) =>
    fc.option(fc.array(oneOfOrHostile('node-1', '*'), { minLength: 1, maxLength: 3 })).map((nodes) => ['service', 'list', ...argv, ...(nodes ? ['--node', ...nodes] : []), '--socket-dir', emptySocketDir]),
  );
  const policyFile = fc.constantFrom(...policyFiles);
  const policyRef = oneOfOrHostile('cnp/default/allow', 'ccnp/x', 'knp/default/y', 'cnp/', 'default/allow', 'cnp/default/allow/extra', '//');
  const policy = fc.oneof(
    fc.array(policyFile, { minLength: 1, maxLength: 3 }).map((files) => ['policy', 'apply', '-f', ...files, '--kubeconfig', kubeconfig]),
    fc.tuple(fc.array(policyRef, { maxLength: 3 }), fc.option(policyFile)).map(([refs, file]) => ['policy', 'delete', ...refs, ...(file ? ['-f', file] : []), '--kubeconfig', kubeconfig]),
    flags({ '-o': oneOfOrHostile('table', 'json', 'yaml') }, [], 2).map((argv) => ['policy', 'list', ...argv, '--kubeconfig', kubeconfig]),
    fc.tuple(policyRef, flags({ '-o': oneOfOrHostile('yaml', 'json', 'table') }, [], 2)).map(([ref, argv]) => ['policy', 'get', ref, ...argv, '--kubeconfig', kubeconfig]),
  );
  return fc
    .oneof({ arbitrary: observe, weight: 6 }, { arbitrary: status, weight: 1 }, { arbitrary: service, weight: 1 }, { arbitrary: policy, weight: 2 })
    .map((argv) => withDisplay(argv, `tycho ${argv.map((arg) => JSON.stringify(abbreviated(arg, 120))).join(' ')}`));
}

/** Errors that are a bug in the program, whatever the input: the input should have been refused by name first. */
const PROGRAM_BUGS = [TypeError, RangeError, SyntaxError, ReferenceError, URIError, EvalError];

type Outcome = { kind: 'done' } | { kind: 'commander'; exitCode: number; code: string } | { kind: 'error'; error: unknown } | { kind: 'stalled' };

/** Commander's exits with status 0: a value such as `-V` or `-h` given where a flag's value was meant is read as the root's flag. */
const HELP_OR_VERSION = ['commander.version', 'commander.helpDisplayed', 'commander.help'];

async function runInProcess(argv: Argv): Promise<{ outcome: Outcome; err: string }> {
  let err = '';
  const stop = new AbortController();
  const program = createProgram({ stdout: () => {}, stderr: (text) => (err += text), timeZone: 'utc', stopSignal: stop.signal });
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ kind: 'stalled' }), STALL_MS)));
  const run = program.parseAsync(['node', 'tycho', ...argv]).then(
    (): Outcome => ({ kind: 'done' }),
    (error: unknown): Outcome => (error instanceof CommanderError ? { kind: 'commander', exitCode: error.exitCode, code: error.code } : { kind: 'error', error }),
  );
  const outcome = await Promise.race([run, stalled]);
  clearTimeout(timer);
  stop.abort();
  return { outcome, err };
}

function expectCleanOutcome(argv: Argv, { outcome, err }: { outcome: Outcome; err: string }): void {
  const what = `tycho ${argv.map((arg) => abbreviated(arg, 120)).join(' ')}`;
  expect(outcome.kind, `${what} did not finish within ${STALL_MS} ms`).not.toBe('stalled');
  expect(err, `${what} wrote a stack trace`).not.toMatch(STACK_FRAME);
  if (outcome.kind === 'commander' && !HELP_OR_VERSION.includes(outcome.code)) expect(outcome.exitCode, `${what}: commander exit code (${outcome.code})`).toBeGreaterThan(0);
  if (outcome.kind !== 'error') return;
  const error = outcome.error;
  expect(error, `${what} threw something that is not an Error`).toBeInstanceOf(Error);
  const { name, message } = error as Error;
  expect(
    PROGRAM_BUGS.some((type) => error instanceof type),
    `${what} failed with ${name}: ${abbreviated(message, 500)}`,
  ).toBe(false);
  expect(message.trim(), `${what} failed with an empty message`).not.toBe('');
  expect(message, `${what}: the message carries a stack trace`).not.toMatch(STACK_FRAME);
}

describe('tycho under generated command lines', () => {
  it(
    'ends every command line in a result or a clear error, in-process',
    async () => {
      await fc.assert(
        fc.asyncProperty(argvs(), async (argv) => {
          expectCleanOutcome(argv, await runInProcess(argv));
        }),
        fuzzParameters(300),
      );
    },
    fuzzTimeoutMs(90_000),
  );

  it(
    'the bin exits 1 or 2 with a one-line error and no stack trace',
    async () => {
      // Commands that need an agent or the API, so each must fail: observe, status, nodes, service list.
      // An argument cannot hold a NUL byte once it is a process's argv (execve cuts it there).
      const failing = argvs()
        .filter((argv) => argv[0] !== 'policy')
        .map((argv) => withDisplay(argv.map((arg) => arg.replaceAll('\u0000', '')), `tycho ${argv.map((arg) => JSON.stringify(abbreviated(arg.replaceAll('\u0000', ''), 120))).join(' ')}`));
      await fc.assert(
        fc.asyncProperty(failing, async (argv) => {
          const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
            execFile(process.execPath, [tychoBin, ...argv], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
              resolve({ code: error ? ((error as { code?: unknown }).code as number | null) : 0, stdout, stderr });
            });
          });
          const what = `tycho ${argv.map((arg) => abbreviated(arg, 120)).join(' ')} (stderr: ${abbreviated(stderr, 1_000)})`;
          // `-V` or `-h` where a value was meant shows the version or help (see HELP_OR_VERSION).
          if (code === 0 && stderr === '' && /^\d+\.\d+\.\d+\n$|^Usage: /.test(stdout)) return;
          expect([1, 2], `${what}: exit code`).toContain(code);
          expect(stderr, `${what}: a stack trace`).not.toMatch(STACK_FRAME);
          const firstError = stderr.split('\n').find((line) => /^(tycho|error): /.test(line));
          expect(firstError, `${what}: no 'tycho: …' or 'error: …' line`).toBeDefined();
          expect(firstError, what).not.toMatch(/Invalid time value|is not a function|Cannot read propert|Maximum call stack|BigInt/);
        }),
        fuzzParameters(20),
      );
    },
    fuzzTimeoutMs(100_000),
  );
});
