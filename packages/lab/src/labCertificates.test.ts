import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { createLabCertificates, labKubeconfigText } from './labCertificates.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-lab-pki-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('createLabCertificates', () => {
  it('makes a CA whose server certificate client-node trusts through the kubeconfig, for each address given', async () => {
    const certificates = await createLabCertificates(join(dir, 'pki'), ['127.0.0.1', '172.18.0.1']);
    const server = createServer({ cert: readFileSync(certificates.serverCert), key: readFileSync(certificates.serverKey) }, (_request, response) => {
      response.setHeader('Content-Type', 'application/json');
      response.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const file = join(dir, 'kubeconfig');
      writeFileSync(file, labKubeconfigText(`https://127.0.0.1:${port}`, certificates.caCert));
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(file);
      expect(kubeConfig.getCurrentCluster()?.skipTLSVerify).toBeFalsy();
      expect((await kubeConfig.makeApiClient(VersionApi).getCode()).gitVersion).toBe('v1.32.0');
    } finally {
      server.close();
    }
  });

  it('names every address in the server certificate, signed by this lab CA and no other', async () => {
    const certificates = await createLabCertificates(join(dir, 'pki'), ['127.0.0.1', '172.18.0.1']);
    const cert = new X509Certificate(readFileSync(certificates.serverCert));
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.subjectAltName).toContain('IP Address:172.18.0.1');
    expect(cert.subjectAltName).toContain('DNS:kubernetes.default.svc');
    expect(cert.checkIssued(new X509Certificate(readFileSync(certificates.caCert)))).toBe(true);
    const otherCa = await createLabCertificates(join(dir, 'other'), ['127.0.0.1']);
    expect(cert.checkIssued(new X509Certificate(readFileSync(otherCa.caCert)))).toBe(false);
  });
});
