import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { KeptProcess } from './keptProcess.ts';
import { createLabCertificates, labKubeconfigText } from './labCertificates.ts';
import { UNDERLAY } from './nodes.ts';
import {
  APISERVER_DIR,
  APISERVER_FORWARDER_MAIN,
  APISERVER_MAIN,
  CGROUP_ROOT,
  KUBECONFIG_FILE,
  LOG_DIR,
  NODES_KUBECONFIG_FILE,
} from './paths.ts';
import { inNetns } from './systemCommand.ts';

export const KUBE_API_PORT = 6443;
/** Where kubectl, the lab's API and `tycho` reach the API server (root network namespace). */
export const KUBE_API_URL = `https://127.0.0.1:${KUBE_API_PORT}`;
/** Where the agents reach it from their node namespaces (the underlay gateway, forwarded to the server's socket). */
export const KUBE_API_NODES_URL = `https://${UNDERLAY.gateway}:${KUBE_API_PORT}`;
export const KUBE_API_LOG = join(LOG_DIR, 'apiserver.log');
const FORWARDER_LOG = join(LOG_DIR, 'apiserver-forwarder.log');
const SOCKET = join(APISERVER_DIR, 'apiserver.sock');
const READY_TIMEOUT_MS = 30_000;

function answersHealthz(ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: KUBE_API_PORT, path: '/healthz', ca, servername: 'localhost', timeout: 1000, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * The lab's Kubernetes API: the kube-apiserver test double
 * (@tycho/lab-apiserver) with a lab CA's certificate, its state under
 * /run/tycho/lab/apiserver, serving 127.0.0.1:6443 in the root namespace
 * and, through a forwarder inside tycho-underlay, 172.18.0.1:6443 for the
 * nodes. Both processes live in the lab's cgroup and are restarted when they
 * die; the kubeconfigs for both addresses are written when it answers.
 */
export class LabKubeApiServer {
  private readonly server: KeptProcess;
  private readonly forwarder: KeptProcess;

  constructor(log: (line: string) => void, onPidChange: () => void) {
    const pki = join(APISERVER_DIR, 'pki');
    this.server = new KeptProcess({
      name: 'the Kubernetes API server',
      cgroup: join(CGROUP_ROOT, 'apiserver'),
      argv: [
        process.execPath, '--import', 'tsx', APISERVER_MAIN,
        '--listen', `127.0.0.1:${KUBE_API_PORT}`,
        '--unix-socket', SOCKET,
        '--data-dir', join(APISERVER_DIR, 'data'),
        '--tls-cert', join(pki, 'apiserver.crt'),
        '--tls-key', join(pki, 'apiserver.key'),
      ],
      logFile: KUBE_API_LOG,
      log,
      onPidChange,
    });
    this.forwarder = new KeptProcess({
      name: `the API server forwarder in ${UNDERLAY.netns}`,
      cgroup: join(CGROUP_ROOT, 'apiserver-forwarder'),
      argv: inNetns(UNDERLAY.netns, [process.execPath, '--import', 'tsx', APISERVER_FORWARDER_MAIN, `${UNDERLAY.gateway}:${KUBE_API_PORT}`, SOCKET]),
      logFile: FORWARDER_LOG,
      log,
    });
  }

  get pid(): number | undefined {
    return this.server.pid;
  }

  /** Makes the certificates, starts both processes, waits for /healthz and writes the kubeconfigs. Needs the underlay built. */
  async start(): Promise<void> {
    mkdirSync(join(APISERVER_DIR, 'data'), { recursive: true });
    const { caCert } = await createLabCertificates(join(APISERVER_DIR, 'pki'), ['127.0.0.1', UNDERLAY.gateway]);
    this.server.start();
    this.forwarder.start();
    const ca = readFileSync(caCert);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await answersHealthz(ca))) {
      if (Date.now() > deadline) throw new Error(`the lab's Kubernetes API server did not answer ${KUBE_API_URL}/healthz within ${READY_TIMEOUT_MS / 1000} s; see ${KUBE_API_LOG}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    writeFileSync(KUBECONFIG_FILE, labKubeconfigText(KUBE_API_URL, caCert), { mode: 0o600 });
    writeFileSync(NODES_KUBECONFIG_FILE, labKubeconfigText(KUBE_API_NODES_URL, caCert), { mode: 0o600 });
  }

  async stop(): Promise<void> {
    await Promise.all([this.forwarder.stop(1000), this.server.stop()]);
  }
}
