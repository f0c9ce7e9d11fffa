import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatStatus } from './clusterHealth.ts';
import { collectHealth } from './statusCommand.ts';

describe('collectHealth without the API', () => {
  it('reports an agent whose socket takes the status request but gives no answer in time as ERROR (Degraded), not as unavailable', async () => {
    const socketDir = mkdtempSync(join(tmpdir(), 'tycho-status-'));
    mkdirSync(join(socketDir, 'node-2'));
    const busy = createServer(() => {});
    await new Promise<void>((resolve) => busy.listen(join(socketDir, 'node-2', 'agent.sock'), resolve));
    try {
      // Port 9 (discard) on loopback: nothing listens, the API is unreachable.
      const health = await collectHealth({ server: 'http://127.0.0.1:9', socketDir });
      const byName = new Map(health.nodes.map((node) => [node.name, node]));
      expect(byName.get('node-2')).toMatchObject({ state: 'ERROR', error: expect.stringMatching(/no answer within 2000 ms/) });
      expect(formatStatus(health)).toMatch(/^ {2}node-2: Degraded {3}node-2: cannot get status .*no answer within 2000 ms$/m);
    } finally {
      busy.closeAllConnections();
      await new Promise((resolve) => busy.close(resolve));
      rmSync(socketDir, { recursive: true, force: true });
    }
  });
});
