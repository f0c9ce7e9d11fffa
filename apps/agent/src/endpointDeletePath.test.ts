// Found by agentApiFuzz.test.ts: DELETE /v1/endpoints/<id> percent-decoded the id and handed it
// to the endpoint manager, which removes `<stateDir>/endpoints/<id>.json`; so `..%2F..%2Fx`
// removed a file outside the state directory, `%ZZ` threw URIError and a long id hit
// ENAMETOOLONG, both answered 500. The id is now held to the registration's rule.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiServer, type ApiServer } from './apiServer.ts';
import { EndpointManager } from './endpointManager.ts';
import { Observer } from './observer.ts';

let dir: string;
let api: ApiServer;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tycho-endpoint-delete-'));
  mkdirSync(join(dir, 'state'));
  const endpoints = new EndpointManager({
    stateDir: join(dir, 'state'),
    datapath: { attachEndpoint: () => {}, detachEndpoint: () => {} },
    resolvePod: () => ({ identity: 256, labels: [], workloads: [] }),
  });
  api = createApiServer({ observer: new Observer({ nodeName: 'node-1', ringCapacity: 15 }), endpoints });
  await api.listen(join(dir, 'agent.sock'));
});

afterEach(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

function del(id: string): Promise<{ status: number; body: { error?: string } | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dir, 'agent.sock'), method: 'DELETE', path: `/v1/endpoints/${id}`, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as { error?: string }) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('DELETE /v1/endpoints/<containerId>', () => {
  it('refuses an id that climbs out of the state directory, and leaves the file there alone', async () => {
    const outside = join(dir, 'victim.json');
    writeFileSync(outside, '{}');
    const answer = await del('..%2F..%2Fvictim');
    expect(answer.status).toBe(400);
    expect(answer.body?.error).toMatch(/^containerId: expected a container id/);
    expect(existsSync(outside)).toBe(true);
  });

  it('refuses malformed percent-encoding and an over-long id with a 400 naming containerId', async () => {
    for (const id of ['%ZZ', 'a'.repeat(1_000)]) {
      const answer = await del(id);
      expect(answer.status).toBe(400);
      expect(answer.body?.error).toMatch(/^containerId: /);
    }
  });

  it('still deletes a well-formed id, known or not', async () => {
    expect((await del('ctr-1')).status).toBe(204);
  });
});
