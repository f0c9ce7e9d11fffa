import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { KubeConfigError, loadKubeConfig, SERVICE_ACCOUNT_DIR } from './kubeConfig.ts';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tycho-kubeconfig-'));
  dirs.push(dir);
  return dir;
}

function kubeconfigFile(dir: string, fileName: string, server: string, token: string): string {
  const file = join(dir, fileName);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: lab`,
      `  cluster: {server: "${server}", insecure-skip-tls-verify: true}`,
      'users:',
      `- name: admin`,
      `  user: {token: ${token}}`,
      'contexts:',
      '- name: lab',
      '  context: {cluster: lab, user: admin}',
      'current-context: lab',
      '',
    ].join('\n'),
  );
  return file;
}

async function authorization(loaded: Awaited<ReturnType<typeof loadKubeConfig>>): Promise<string | null> {
  const options = await loaded.kubeConfig.applyToFetchOptions({});
  return new Headers(options.headers as unknown as ConstructorParameters<typeof Headers>[0]).get('authorization');
}

describe('loadKubeConfig', () => {
  it('reads the kubeconfig named by --kubeconfig, before KUBECONFIG', async () => {
    const dir = tempDir();
    const flag = kubeconfigFile(dir, 'flag.yaml', 'http://127.0.0.1:7001', 'flag-token');
    const fromEnv = kubeconfigFile(dir, 'env.yaml', 'http://127.0.0.1:7002', 'env-token');
    const loaded = await loadKubeConfig({ kubeconfigPath: flag, env: { KUBECONFIG: fromEnv }, homeDir: dir });
    expect([loaded.origin, loaded.from, loaded.server]).toEqual(['flag', flag, 'http://127.0.0.1:7001']);
    expect(await authorization(loaded)).toBe('Bearer flag-token');
  });

  it('names the --kubeconfig file that does not exist, and tries nothing else', async () => {
    const dir = tempDir();
    const fromEnv = kubeconfigFile(dir, 'env.yaml', 'http://127.0.0.1:7002', 'env-token');
    await expect(loadKubeConfig({ kubeconfigPath: join(dir, 'missing.yaml'), env: { KUBECONFIG: fromEnv } })).rejects.toThrow(
      new KubeConfigError(`--kubeconfig ${join(dir, 'missing.yaml')}: no such file`),
    );
  });

  it('reads KUBECONFIG, merging its files with the first one winning, skipping files that do not exist', async () => {
    const dir = tempDir();
    const first = kubeconfigFile(dir, 'first.yaml', 'http://127.0.0.1:7003', 'first-token');
    const second = kubeconfigFile(dir, 'second.yaml', 'http://127.0.0.1:7004', 'second-token');
    const loaded = await loadKubeConfig({ env: { KUBECONFIG: [join(dir, 'absent.yaml'), first, second].join(':') }, homeDir: dir });
    expect([loaded.origin, loaded.server]).toEqual(['KUBECONFIG', 'http://127.0.0.1:7003']);
    expect(await authorization(loaded)).toBe('Bearer first-token');
  });

  it('uses the service account in a pod: KUBERNETES_SERVICE_HOST/PORT and the mounted token', async () => {
    const root = tempDir();
    const mount = join(root, SERVICE_ACCOUNT_DIR);
    mkdirSync(mount, { recursive: true });
    writeFileSync(join(mount, 'token'), 'pod-token');
    writeFileSync(join(mount, 'namespace'), 'kube-system');
    const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    await expect(loadKubeConfig({ env: inCluster, filesystemRoot: root, homeDir: root })).rejects.toThrow(`in-cluster: the service-account token is mounted but its CA certificate ${join(mount, 'ca.crt')} is missing`);
    writeFileSync(join(mount, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    const loaded = await loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, filesystemRoot: root, homeDir: root });
    expect([loaded.origin, loaded.from, loaded.server]).toEqual(['in-cluster', mount, 'https://10.96.0.1:443']);
    expect(loaded.kubeConfig.getCurrentCluster()?.caFile).toBe(join(mount, 'ca.crt'));
    expect(loaded.kubeConfig.getContextObject(loaded.kubeConfig.getCurrentContext())?.namespace).toBe('kube-system');
    expect(await authorization(loaded)).toBe('Bearer pod-token');
  });

  it('falls back to ~/.kube/config', async () => {
    const home = tempDir();
    mkdirSync(join(home, '.kube'));
    const file = kubeconfigFile(join(home, '.kube'), 'config', 'http://127.0.0.1:7005', 'home-token');
    const loaded = await loadKubeConfig({ env: {}, filesystemRoot: home, homeDir: home });
    expect([loaded.origin, loaded.from]).toEqual(['home', file]);
  });

  it('names every source it tried when none exists', async () => {
    const root = tempDir();
    await expect(loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, filesystemRoot: root, homeDir: root })).rejects.toThrow(
      `no Kubernetes API configuration found; tried --kubeconfig (not given), KUBECONFIG (not set), in-cluster (no service-account token at ${join(root, SERVICE_ACCOUNT_DIR, 'token')}), ${join(root, '.kube', 'config')} (no such file)`,
    );
    await expect(loadKubeConfig({ env: { KUBECONFIG: join(root, 'gone.yaml') }, filesystemRoot: root, homeDir: root })).rejects.toThrow(
      /KUBECONFIG=.*gone\.yaml \(no such file\), in-cluster \(KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT not set\)/,
    );
  });

  it('refuses a kubeconfig that is not YAML or names no current context, naming the file', async () => {
    const dir = tempDir();
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'clusters: [');
    await expect(loadKubeConfig({ kubeconfigPath: broken })).rejects.toThrow(new RegExp(`--kubeconfig ${broken} cannot be read as a kubeconfig`));
    const contextless = join(dir, 'contextless.yaml');
    writeFileSync(contextless, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
    await expect(loadKubeConfig({ kubeconfigPath: contextless })).rejects.toThrow(`${contextless}: no current-context (set current-context to one of: none defined)`);
  });
});
