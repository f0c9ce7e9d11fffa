import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mustRun } from './systemCommand.ts';

/** The lab CA and the API server's certificate, as PEM files. */
export interface LabCertificates {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

const VALID_DAYS = '30';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A CA for one lab and, signed by it, the API server's certificate for every
 * address the lab's clients dial (`ipAddresses`, plus the in-cluster names of
 * the `kubernetes` Service), made with Debian's `openssl`. Clients trust the CA
 * through their kubeconfig's certificate-authority-data, as in a real cluster.
 */
export async function createLabCertificates(dir: string, ipAddresses: readonly string[]): Promise<LabCertificates> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => join(dir, name);
  await mustRun('openssl', [
    'req', '-x509', '-new', ...EC_KEY, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', VALID_DAYS,
    '-subj', '/CN=tycho-lab-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await mustRun('openssl', ['req', '-new', ...EC_KEY, '-keyout', file('apiserver.key'), '-out', file('apiserver.csr'), '-subj', '/CN=kube-apiserver']);
  const names = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  writeFileSync(
    file('apiserver.ext'),
    [
      `subjectAltName=${[...ipAddresses.map((address) => `IP:${address}`), ...names.map((name) => `DNS:${name}`)].join(',')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  await mustRun('openssl', [
    'x509', '-req', '-in', file('apiserver.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('apiserver.crt'), '-days', VALID_DAYS, '-extfile', file('apiserver.ext'),
  ]);
  return { caCert: file('ca.crt'), serverCert: file('apiserver.crt'), serverKey: file('apiserver.key') };
}

/**
 * A kubeconfig for the lab API server at `server`, trusting the lab CA. The
 * double authorizes every request; the token is there because kubectl asks
 * for a username and password when a user has no credentials at all.
 */
export function labKubeconfigText(server: string, caCertFile: string): string {
  const ca = readFileSync(caCertFile).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: tycho-lab',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    '- name: tycho-lab',
    '  user:',
    '    token: tycho-lab',
    'contexts:',
    '- name: tycho-lab',
    '  context:',
    '    cluster: tycho-lab',
    '    user: tycho-lab',
    'current-context: tycho-lab',
    '',
  ].join('\n');
}
