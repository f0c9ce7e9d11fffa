import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommanderError } from 'commander';
import { load } from 'js-yaml';
import { createCiliumCrds, startTestApiServer, type TestApiServer } from '@tycho/kube/labApiServer.fixture';
import { createProgram } from './program.ts';

let dir: string;
let kubeconfig: string;
let server: TestApiServer;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-cli-policy-'));
  server = await startTestApiServer();
  createCiliumCrds(server.store);
  server.store.create(server.resource('', 'v1', 'namespaces'), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, (await server.kubeConfig()).exportConfig());
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The policies the API server holds, as `kind namespace/name`. */
function storedPolicies(): string[] {
  return [
    ['cilium.io', 'v2', 'ciliumnetworkpolicies'],
    ['cilium.io', 'v2', 'ciliumclusterwidenetworkpolicies'],
    ['networking.k8s.io', 'v1', 'networkpolicies'],
  ].flatMap(([group, version, plural]) =>
    server.store.list(server.resource(group!, version!, plural!), undefined).items.map((item) => `${item.kind} ${item.metadata.namespace ?? ''}/${item.metadata.name}`),
  );
}

/** The `policy revision N` line's N. */
function revisionOf(out: string): number {
  const match = /^policy revision (\d+)$/m.exec(out);
  if (!match) throw new Error(`no policy revision line in ${JSON.stringify(out)}`);
  return Number(match[1]);
}

async function tycho(...args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const program = createProgram({ stdout: (t) => (out += t), stderr: (t) => (err += t), timeZone: 'utc' });
  try {
    await program.parseAsync(['node', 'tycho', ...args]);
    return { out, err, exitCode: 0 };
  } catch (error) {
    // As bin/main.ts: commander errors carry their exit code, anything else is printed and exits 1.
    if (error instanceof CommanderError) return { out, err, exitCode: error.exitCode };
    return { out, err: `${err}tycho: ${(error as Error).message}\n`, exitCode: 1 };
  }
}

const policy = (...args: string[]) => tycho('policy', ...args, '--kubeconfig', kubeconfig);

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const ALLOWED = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: pod-to-a-allowed-cnp
spec:
  endpointSelector:
    matchLabels:
      name: pod-to-a-allowed-cnp
  egress:
    - toEndpoints:
        - matchLabels:
            name: echo-a
      toPorts:
        - ports:
            - { port: "8080", protocol: TCP }
`;
const DENY_ALL_INGRESS = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-ingress
  namespace: team-a
spec:
  podSelector: {}
`;
const TYPO = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: typo
spec:
  endpointSelector: {}
  egress:
    - toPort:
        - ports: [{ port: "80" }]
`;

describe('tycho policy', () => {
  it('applies every policy of several files and lists them', async () => {
    const applied = await policy('apply', '-f', file('a.yaml', ALLOWED), file('b.yaml', DENY_ALL_INGRESS));
    expect(applied).toMatchObject({ exitCode: 0, err: '' });
    expect(applied.out).toBe(`CiliumNetworkPolicy default/pod-to-a-allowed-cnp created\nNetworkPolicy team-a/deny-ingress created\npolicy revision ${server.store.resourceVersion}\n`);
    expect(storedPolicies()).toEqual(['CiliumNetworkPolicy default/pod-to-a-allowed-cnp', 'NetworkPolicy team-a/deny-ingress']);
    const listed = await policy('list');
    expect(listed.out).toBe(
      ['KIND                  NAMESPACE   NAME', 'CiliumNetworkPolicy   default     pod-to-a-allowed-cnp', 'NetworkPolicy         team-a      deny-ingress', ''].join('\n'),
    );
  });

  it('says configured or unchanged when a policy is applied again', async () => {
    const path = file('a.yaml', ALLOWED);
    const first = revisionOf((await policy('apply', '-f', path)).out);
    expect((await policy('apply', '-f', path)).out).toBe(`CiliumNetworkPolicy default/pod-to-a-allowed-cnp unchanged\npolicy revision ${first}\n`);
    writeFileSync(path, ALLOWED.replace('"8080"', '"8081"'));
    const configured = await policy('apply', '-f', path);
    expect(configured.out).toMatch(/^CiliumNetworkPolicy default\/pod-to-a-allowed-cnp configured\npolicy revision \d+\n$/);
    expect(revisionOf(configured.out)).toBeGreaterThan(first);
    const stored = await policy('get', 'cnp/default/pod-to-a-allowed-cnp', '-o', 'json');
    expect(JSON.parse(stored.out).spec.egress[0].toPorts[0].ports[0].port).toBe('8081');
  });

  it('refuses an invalid policy with file, object, path and reason, exit 1, and applies nothing of any file', async () => {
    const result = await policy('apply', '-f', file('good.yaml', ALLOWED), file('bad.yaml', `${DENY_ALL_INGRESS}---\n${TYPO}`));
    expect(result.exitCode).toBe(1);
    expect(result.err).toBe(`tycho: ${join(dir, 'bad.yaml')}: CiliumNetworkPolicy typo: spec.egress[0].toPort: unknown field 'toPort'\n`);
    expect(result.out).toBe('');
    expect(storedPolicies()).toEqual([]);
    expect((await policy('list')).out).toBe(`No policies (revision ${server.store.resourceVersion})\n`);
  });

  it('gets one policy as YAML or JSON, with the namespace it was applied to', async () => {
    await policy('apply', '-f', file('a.yaml', ALLOWED));
    const yaml = await policy('get', 'cnp/default/pod-to-a-allowed-cnp');
    expect(load(yaml.out)).toMatchObject({ kind: 'CiliumNetworkPolicy', metadata: { name: 'pod-to-a-allowed-cnp', namespace: 'default' } });
    const json = await policy('get', 'CiliumNetworkPolicy/pod-to-a-allowed-cnp', '-o', 'json');
    expect(JSON.parse(json.out)).toEqual(load(yaml.out));
    const missing = await policy('get', 'netpol/default/nope');
    expect(missing).toMatchObject({ exitCode: 1, err: 'tycho: NetworkPolicy default/nope not found; see tycho policy list\n' });
    const badRef = await policy('get', 'pod/default/x');
    expect(badRef.exitCode).toBe(1);
    expect(badRef.err).toContain("'pod/default/x': unknown kind 'pod'");
  });

  it('deletes by name or by file; an unknown name deletes nothing', async () => {
    await policy('apply', '-f', file('a.yaml', ALLOWED), file('b.yaml', DENY_ALL_INGRESS));
    const refused = await policy('delete', 'cnp/default/pod-to-a-allowed-cnp', 'netpol/team-a/nope');
    expect(refused).toMatchObject({ exitCode: 1, err: 'tycho: NetworkPolicy team-a/nope: not found\n' });
    expect(storedPolicies()).toHaveLength(2);
    expect((await policy('delete', 'cnp/default/pod-to-a-allowed-cnp')).out).toBe(`CiliumNetworkPolicy default/pod-to-a-allowed-cnp deleted\npolicy revision ${server.store.resourceVersion}\n`);
    expect(storedPolicies()).toEqual(['NetworkPolicy team-a/deny-ingress']);
    expect((await policy('delete', '-f', join(dir, 'b.yaml'))).out).toBe(`NetworkPolicy team-a/deny-ingress deleted\npolicy revision ${server.store.resourceVersion}\n`);
    expect(storedPolicies()).toEqual([]);
  });

  it('applies nothing when a policy names a namespace that does not exist', async () => {
    const result = await policy('apply', '-f', file('a.yaml', ALLOWED), file('b.yaml', DENY_ALL_INGRESS.replace('team-a', 'team-b')));
    expect(result).toMatchObject({ exitCode: 1, out: '' });
    expect(result.err).toBe('tycho: namespace team-b does not exist (needed by NetworkPolicy team-b/deny-ingress); nothing was applied\n');
    expect(storedPolicies()).toEqual([]);
  });

  it('says which policies were applied and which not when the API refuses a write midway', async () => {
    // A valid policy the API server refuses (a body over its 3 MiB limit): its create fails after the first was written.
    const huge = ALLOWED.replace('name: pod-to-a-allowed-cnp', `name: huge\n  annotations:\n    filler: "${'x'.repeat(3.5 * 1024 * 1024)}"`);
    const path = file('c.yaml', `${DENY_ALL_INGRESS}---\n${huge}---\n${ALLOWED}`);
    const result = await policy('apply', '-f', path);
    expect(result.exitCode).toBe(1);
    expect(result.out).toBe('NetworkPolicy team-a/deny-ingress created\n');
    expect(result.err).toMatch(
      /^tycho: CiliumNetworkPolicy default\/huge was not applied: .*413.*; already applied: NetworkPolicy team-a\/deny-ingress; not applied: CiliumNetworkPolicy default\/pod-to-a-allowed-cnp\n$/,
    );
    expect(storedPolicies()).toEqual(['NetworkPolicy team-a/deny-ingress']);
  });

  it('says so clearly when no lab is running', async () => {
    const absent = join(dir, 'absent');
    const result = await tycho('policy', 'list', '--kubeconfig', absent);
    expect(result.exitCode).toBe(1);
    expect(result.err).toBe(`tycho: --kubeconfig ${absent}: no such file\n`);
  });

  it('documents every subcommand in --help', async () => {
    const help = await tycho('policy', '--help');
    for (const sub of ['apply', 'delete', 'list', 'get']) expect(help.out).toContain(sub);
    expect((await tycho('policy', 'apply', '--help')).out).toContain('-f, --filename <files...>');
  });
});
