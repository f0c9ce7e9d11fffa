import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommanderError } from 'commander';
import { load } from 'js-yaml';
import { DirectoryKubeStore } from '@tycho/kube';
import { createProgram } from './program.ts';

let dir: string;
let kubeDir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-cli-policy-'));
  kubeDir = join(dir, 'kube');
  mkdirSync(kubeDir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

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

const policy = (...args: string[]) => tycho('policy', ...args, '--kube-dir', kubeDir);

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
    expect(applied.out).toBe('CiliumNetworkPolicy default/pod-to-a-allowed-cnp created\nNetworkPolicy team-a/deny-ingress created\npolicy revision 1\n');
    const listed = await policy('list');
    expect(listed.out).toBe(
      ['KIND                  NAMESPACE   NAME', 'CiliumNetworkPolicy   default     pod-to-a-allowed-cnp', 'NetworkPolicy         team-a      deny-ingress', ''].join('\n'),
    );
  });

  it('says configured or unchanged when a policy is applied again', async () => {
    const path = file('a.yaml', ALLOWED);
    await policy('apply', '-f', path);
    expect((await policy('apply', '-f', path)).out).toBe('CiliumNetworkPolicy default/pod-to-a-allowed-cnp unchanged\npolicy revision 1\n');
    writeFileSync(path, ALLOWED.replace('"8080"', '"8081"'));
    expect((await policy('apply', '-f', path)).out).toBe('CiliumNetworkPolicy default/pod-to-a-allowed-cnp configured\npolicy revision 2\n');
  });

  it('refuses an invalid policy with file, object, path and reason, exit 1, and applies nothing of any file', async () => {
    const result = await policy('apply', '-f', file('good.yaml', ALLOWED), file('bad.yaml', `${DENY_ALL_INGRESS}---\n${TYPO}`));
    expect(result.exitCode).toBe(1);
    expect(result.err).toBe(`tycho: ${join(dir, 'bad.yaml')}: CiliumNetworkPolicy typo: spec.egress[0].toPort: unknown field 'toPort'\n`);
    expect(result.out).toBe('');
    expect(new DirectoryKubeStore(kubeDir).policies.read()).toEqual({ revision: 0, items: [] });
    expect((await policy('list')).out).toBe('No policies (revision 0)\n');
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
    expect(new DirectoryKubeStore(kubeDir).policies.read().items).toHaveLength(2);
    expect((await policy('delete', 'cnp/default/pod-to-a-allowed-cnp')).out).toBe('CiliumNetworkPolicy default/pod-to-a-allowed-cnp deleted\npolicy revision 2\n');
    expect((await policy('delete', '-f', join(dir, 'b.yaml'))).out).toBe('NetworkPolicy team-a/deny-ingress deleted\npolicy revision 3\n');
    expect(new DirectoryKubeStore(kubeDir).policies.read()).toEqual({ revision: 3, items: [] });
  });

  it('says so clearly when no lab is running', async () => {
    const result = await tycho('policy', 'list', '--kube-dir', join(dir, 'absent'));
    expect(result.exitCode).toBe(1);
    expect(result.err).toBe(`tycho: no lab is running: the policy store ${join(dir, 'absent')} does not exist (start the lab with tycho lab up, or pass --kube-dir)\n`);
  });

  it('documents every subcommand in --help', async () => {
    const help = await tycho('policy', '--help');
    for (const sub of ['apply', 'delete', 'list', 'get']) expect(help.out).toContain(sub);
    expect((await tycho('policy', 'apply', '--help')).out).toContain('-f, --filename <files...>');
  });
});
