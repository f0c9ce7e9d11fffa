// Fuzz test of tycho-cni's input: generated network configurations on stdin and CNI_* variables.
// In-process, the parsers main.ts runs first (environment, then configuration) must refuse every
// bad input with a CniError; spawned, the real binary must print a CNI error result ({cniVersion,
// code, msg}) and exit 1, never crash. No generated input reaches the kernel: CNI_NETNS is either
// invalid or a path that does not exist, which ADD and CHECK refuse before touching an interface,
// and DEL (which deletes interfaces) only ever gets an environment it must refuse.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abbreviated, deepJson, fuzzParameters, fuzzTimeoutMs, hostileJsonValue, hostileString, longString, notJson, PROTOTYPE_KEYS, STACK_FRAME, withDisplay } from '@tycho/fuzz';
import { CniError } from './cniError.ts';
import { supportedCniVersions } from './cniVersion.ts';
import { parseEnvironment } from './environment.ts';
import { parseNetConf } from './netconf.ts';
import { runCni } from './runCni.ts';
import { versionCommand } from './commands/version.ts';

let dir: string;
/** A path under a fresh temporary directory that is never created: no network namespace is there. */
let missingNetns: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-cni-fuzz-'));
  missingNetns = join(dir, 'no-such-netns');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Mostly one of `valid`, sometimes any JSON value. */
const validOrHostile = (...valid: unknown[]) => fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 4 }, { arbitrary: hostileJsonValue, weight: 1 });

/** A conflist-shaped network configuration with hostile values mixed in; `dataDir` and `agentSocket` stay in the scratch directory. */
function netConf(): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record(
      {
        cniVersion: validOrHostile(...supportedCniVersions, '0.0.1', '2.0.0', '1.0.0-rc1'),
        name: validOrHostile('tycho', 'tycho.net_1', '-tycho', 'a'.repeat(10_000)),
        type: validOrHostile('tycho-cni', ''),
        mtu: validOrHostile(1500, 68, 67, 65535, 65536, 1e400, -1, 1500.5, '1500'),
        agentSocket: validOrHostile('relative/agent.sock', '', '/'),
        ipMasq: validOrHostile(false, true, 'false'),
        ipam: fc.oneof(
          fc.record(
            {
              type: validOrHostile('host-local'),
              subnet: validOrHostile('10.244.7.0/24', '10.244.7.0/31', '10.244.7.0/33', '10.244.7.1/24', '256.0.0.0/8', '10.0.0.0/-1', '10.0.0.0/1e400', '0.0.0.0/0'),
              gateway: validOrHostile('169.254.1.1', '169.254.1', '::1', '0x7f.1'),
              dataDir: validOrHostile('relative/ipam', ''),
            },
            { requiredKeys: [] },
          ),
          hostileJsonValue,
        ),
        dns: validOrHostile({ nameservers: ['10.96.0.10'] }, { nameservers: '10.96.0.10' }, { search: [1] }),
        prevResult: validOrHostile({ ips: [{ address: '10.244.7.2/32' }] }, { ips: 'x' }, { ips: [null] }),
        args: validOrHostile({ cni: { ips: ['10.244.7.9'] } }),
        runtimeConfig: validOrHostile({ portMappings: [{ hostPort: 99999 }] }),
      },
      { requiredKeys: [] },
    )
    .chain((conf) =>
      fc.option(fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), hostileString), hostileJsonValue), { freq: 4 }).map((extra) => {
        if (extra) Object.defineProperty(conf, extra[0], { value: extra[1], enumerable: true, writable: true, configurable: true });
        return conf;
      }),
    );
}

/** stdin: a configuration as JSON, something else as JSON, not JSON at all, deep nesting, or a huge document. */
function stdinText(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: netConf().map((conf) => JSON.stringify(conf)), weight: 8 },
    { arbitrary: hostileJsonValue.map((value) => JSON.stringify(value) ?? ''), weight: 1 },
    { arbitrary: notJson, weight: 1 },
    { arbitrary: fc.oneof(deepJson('{}', 1_000, 200_000), deepJson('"1.0.0"', 1_000, 20_000).map((nested) => `{"cniVersion":"1.0.0","ipam":${nested}}`)), weight: 2 },
    { arbitrary: longString(100_000, 2_000_000).map((text) => JSON.stringify({ cniVersion: '1.0.0', name: 'tycho', type: 'tycho-cni', padding: text })), weight: 1 },
  );
}

const containerId = fc.oneof({ arbitrary: fc.constantFrom('ctr-1', 'a'.repeat(64)), weight: 8 }, hostileString);
const ifname = fc.oneof({ arbitrary: fc.constantFrom('eth0', 'e'.repeat(15)), weight: 8 }, fc.constantFrom('e'.repeat(16), '.', '..', 'a/b', 'a:b', 'a b', ''), hostileString);
const cniArgs = fc.oneof(
  { arbitrary: fc.constantFrom('IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-a', 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-a'), weight: 8 },
  fc.constantFrom('', ';;;', '=x', 'K8S_POD_NAME', 'K8S_POD_NAMESPACE=;K8S_POD_NAME=', '__proto__=1;constructor=2;K8S_POD_NAMESPACE=default;K8S_POD_NAME=a'),
  hostileString,
);

/** CNI_NETNS: a path that does not exist, or no absolute path at all. Never one that could exist. */
const netnsOf = (missing: string) => fc.oneof({ arbitrary: fc.constant(missing), weight: 8 }, hostileString.map((text) => `x${text}`));

/** CNI_* variables for VERSION, ADD and CHECK that stop before any interface is touched, and DEL with an environment it must refuse. */
function cniEnv(): fc.Arbitrary<Record<string, string>> {
  const attach = (command: string) =>
    fc.record(
      {
        CNI_COMMAND: fc.constant(command),
        CNI_CONTAINERID: containerId,
        CNI_NETNS: netnsOf(missingNetns),
        CNI_IFNAME: ifname,
        CNI_ARGS: cniArgs,
        CNI_PATH: fc.constantFrom('/opt/cni/bin', ''),
      },
      { requiredKeys: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS'] },
    );
  const refusedDel = fc.record({ CNI_COMMAND: fc.constant('DEL'), CNI_CONTAINERID: containerId, CNI_IFNAME: fc.constantFrom('a/b', '', 'e'.repeat(16), 'a b') });
  return fc.oneof(
    { arbitrary: fc.constant({ CNI_COMMAND: 'VERSION' }), weight: 2 },
    { arbitrary: attach('ADD'), weight: 4 },
    { arbitrary: attach('CHECK'), weight: 2 },
    { arbitrary: attach('ADD').chain((env) => fc.subarray(Object.keys(env), { minLength: 1 }).map((dropped) => Object.fromEntries(Object.entries(env).filter(([key]) => !dropped.includes(key))))), weight: 1 },
    { arbitrary: refusedDel, weight: 1 },
    { arbitrary: fc.record({ CNI_COMMAND: fc.oneof(fc.constantFrom('', 'add', 'VERSION ', 'GC', 'STATUS'), hostileString) }, { requiredKeys: [] }), weight: 1 },
  );
}

interface CniInput {
  env: Record<string, string>;
  stdin: string;
}

/** Built once the scratch directory exists. */
function cniInput(): fc.Arbitrary<CniInput> {
  return fc.record({ env: cniEnv(), stdin: stdinText() }).map((input) =>
    withDisplay(input, `${Object.entries(input.env).map(([key, value]) => `${key}=${JSON.stringify(abbreviated(value, 80))}`).join(' ')} <<< ${JSON.stringify(abbreviated(input.stdin, 300))}`),
  );
}

/** Environment variables must be strings without NUL; the runtime could not pass anything else. */
function passable(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value.replaceAll('\u0000', '')]));
}

describe('tycho-cni under generated configurations and environments', () => {
  it('its parsers refuse every bad environment and configuration with a CniError', () => {
    fc.assert(
      fc.property(cniInput(), ({ env, stdin }) => {
        try {
          const parsed = parseEnvironment(passable(env));
          if (parsed.command === 'VERSION') versionCommand(stdin);
          else parseNetConf(stdin);
        } catch (error) {
          expect(error, `${abbreviated(String((error as Error).stack), 600)}`).toBeInstanceOf(CniError);
          expect((error as CniError).msg.trim()).not.toBe('');
          expect((error as CniError).message).not.toMatch(STACK_FRAME);
        }
      }),
      fuzzParameters(300),
    );
  });

  it(
    'the binary prints a CNI error result and exits 1 for every input it cannot run, never a crash',
    async () => {
      await fc.assert(
        fc.asyncProperty(cniInput(), async ({ env, stdin }) => {
          const outcome = await runCni(passable(env), stdin, { timeoutMs: 30_000 });
          const what = `${JSON.stringify(outcome).slice(0, 1_000)}`;
          expect(outcome.stderr, `${what}: a stack trace on stderr`).not.toMatch(STACK_FRAME);
          if (outcome.ok) {
            // Only VERSION succeeds here: ADD and CHECK have no network namespace to work in.
            expect(env['CNI_COMMAND'], what).toBe('VERSION');
            return;
          }
          expect(outcome.exitCode, what).toBe(1);
          expect(outcome.error.code, `${what}: 999 is tycho-cni's internal error`).not.toBe(999);
          expect(outcome.error.msg.trim(), what).not.toBe('');
          expect(outcome.error.cniVersion, what).toMatch(/^\d+\.\d+\.\d+$/);
        }),
        fuzzParameters(20),
      );
    },
    fuzzTimeoutMs(100_000),
  );
});
