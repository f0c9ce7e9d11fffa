// Where Tycho finds its Kubernetes API server and credentials, the way Kubernetes clients do:
// an explicit kubeconfig (--kubeconfig), then $KUBECONFIG, then the pod's service account
// (in-cluster), then ~/.kube/config. Loading and request signing are @kubernetes/client-node's.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

// client-node loads its whole API model on import (most of a second), so it is imported when a
// configuration is loaded, not by every process that imports this package (the CLI does).
import type { KubeConfig } from '@kubernetes/client-node';

/** Where a pod's service-account token, CA and namespace are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigSources {
  /** The --kubeconfig flag: when given, it is the only source tried. */
  kubeconfigPath?: string;
  /** Defaults to process.env (KUBECONFIG, KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Prefix of the service-account mount, so tests can fake one in a temporary directory. */
  filesystemRoot?: string;
  /** Defaults to the user's home directory. */
  homeDir?: string;
}

export type KubeConfigOrigin = 'flag' | 'KUBECONFIG' | 'in-cluster' | 'home';

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  origin: KubeConfigOrigin;
  /** The file or mount the configuration came from, for logs. */
  from: string;
  /** The API server's URL. */
  server: string;
}

export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

async function fromFiles(files: string[], what: string): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  files.forEach((file, index) => {
    const part = new KubeConfig();
    try {
      part.loadFromFile(file);
    } catch (error) {
      throw new KubeConfigError(`${what} ${file} cannot be read as a kubeconfig: ${(error as Error).message}`);
    }
    if (index === 0) {
      kubeConfig.loadFromOptions({ clusters: [...part.clusters], users: [...part.users], contexts: [...part.contexts], currentContext: part.currentContext });
      return;
    }
    // Later files only add what earlier ones lack: the first file to name an entry wins, as in kubectl.
    for (const cluster of part.clusters) if (!kubeConfig.getCluster(cluster.name)) kubeConfig.addCluster(cluster);
    for (const user of part.users) if (!kubeConfig.getUser(user.name)) kubeConfig.addUser(user);
    for (const context of part.contexts) if (!kubeConfig.getContextObject(context.name)) kubeConfig.addContext(context);
    if (!kubeConfig.getCurrentContext()) kubeConfig.setCurrentContext(part.currentContext);
  });
  return kubeConfig;
}

function checked(kubeConfig: KubeConfig, origin: KubeConfigOrigin, from: string): LoadedKubeConfig {
  const context = kubeConfig.getCurrentContext();
  if (!context || !kubeConfig.getContextObject(context)) {
    throw new KubeConfigError(`${from}: no current-context (set current-context to one of: ${kubeConfig.getContexts().map((entry) => entry.name).join(', ') || 'none defined'})`);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster?.server) throw new KubeConfigError(`${from}: the current context "${context}" names no cluster with a server URL`);
  return { kubeConfig, origin, from, server: cluster.server };
}

/**
 * The first configuration that exists among the Kubernetes sources; an error naming every
 * source tried when none does. A source that exists but is broken is an error of its own:
 * it is not skipped for the next one.
 */
export async function loadKubeConfig(sources: KubeConfigSources = {}): Promise<LoadedKubeConfig> {
  const env = sources.env ?? process.env;
  const root = sources.filesystemRoot ?? '';
  if (sources.kubeconfigPath !== undefined) {
    if (!existsSync(sources.kubeconfigPath)) throw new KubeConfigError(`--kubeconfig ${sources.kubeconfigPath}: no such file`);
    return checked(await fromFiles([sources.kubeconfigPath], '--kubeconfig'), 'flag', sources.kubeconfigPath);
  }
  const tried: string[] = [];
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((file) => file !== '');
  if (listed.length > 0) {
    const present = listed.filter((file) => existsSync(file));
    if (present.length > 0) return checked(await fromFiles(present, 'KUBECONFIG file'), 'KUBECONFIG', present.join(delimiter));
    tried.push(`KUBECONFIG=${env.KUBECONFIG ?? ''} (no such file)`);
  } else tried.push('KUBECONFIG (not set)');

  const serviceAccount = `${root}${SERVICE_ACCOUNT_DIR}`;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) tried.push('in-cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT not set)');
  else if (!existsSync(join(serviceAccount, 'token'))) tried.push(`in-cluster (no service-account token at ${join(serviceAccount, 'token')})`);
  else if (!existsSync(join(serviceAccount, 'ca.crt'))) {
    throw new KubeConfigError(`in-cluster: the service-account token is mounted but its CA certificate ${join(serviceAccount, 'ca.crt')} is missing`);
  } else {
    const { KubeConfig } = await import('@kubernetes/client-node');
    // client-node reads the host and port from process.env; the caller's env may be another one.
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = host;
    process.env.KUBERNETES_SERVICE_PORT = port;
    const kubeConfig = new KubeConfig();
    try {
      kubeConfig.loadFromCluster(root);
    } finally {
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      else process.env.KUBERNETES_SERVICE_HOST = saved.host;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
      else process.env.KUBERNETES_SERVICE_PORT = saved.port;
    }
    return checked(kubeConfig, 'in-cluster', serviceAccount);
  }

  const home = sources.homeDir ?? homedir();
  const homeConfig = join(home, '.kube', 'config');
  if (existsSync(homeConfig)) return checked(await fromFiles([homeConfig], 'kubeconfig'), 'home', homeConfig);
  tried.push(`${homeConfig} (no such file)`);
  throw new KubeConfigError(`no Kubernetes API configuration found; tried --kubeconfig (not given), ${tried.join(', ')}`);
}

/** A configuration for one API server URL without credentials, as the lab's API server double and tests use. */
export async function kubeConfigForServer(server: string): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser({ name: 'lab', server, skipTLSVerify: server.startsWith('http:') }, { name: 'lab' });
  return kubeConfig;
}
