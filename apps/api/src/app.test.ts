import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GetFlowsResponse } from '@tycho/flow';
import { createCiliumCrds, startTestApiServer } from '@tycho/kube/labApiServer.fixture';
import { createApiCluster } from './apiCluster.ts';
import type { NodeView, RelayStatus } from './agentRelay.ts';
import { flowAt, kubeSystemFlow, startTestCluster, testAgent, uuids, waitFor, type TestCluster } from './testAgents.ts';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** Two nodes whose flows interleave in time: node-1 at 1, 3, 5 s; node-2 at 2, 4 s. */
async function twoNodes(): Promise<TestCluster> {
  cluster = await startTestCluster(['node-1', 'node-2']);
  const [one, two] = cluster.agents;
  one?.publish(flowAt('node-1', 1), flowAt('node-1', 3), flowAt('node-1', 5));
  two?.publish(flowAt('node-2', 2), flowAt('node-2', 4));
  const c = cluster;
  await waitFor(async () => ((await c.get('/api/v1/flows?since=2024-01-01T00:00:00Z')).body as { flows: unknown[] }).flows.length === 5, 'five flows held');
  return c;
}

async function flowsOf(path: string): Promise<GetFlowsResponse[]> {
  const response = await cluster!.get(path);
  expect(response.status).toBe(200);
  return (response.body as { flows: GetFlowsResponse[] }).flows;
}

async function errorOf(path: string): Promise<string> {
  const response = await cluster!.get(path);
  expect(response.status).toBe(400);
  return (response.body as { error: string }).error;
}

describe('GET /api/v1/flows', () => {
  it('merges the nodes’ flows by time', async () => {
    await twoNodes();
    expect(uuids(await flowsOf('/api/v1/flows?number=5'))).toEqual(['node-1-1', 'node-2-2', 'node-1-3', 'node-2-4', 'node-1-5']);
  });

  it('returns the last N flows across nodes, or the first N with first=true', async () => {
    await twoNodes();
    expect(uuids(await flowsOf('/api/v1/flows?number=2'))).toEqual(['node-2-4', 'node-1-5']);
    expect(uuids(await flowsOf('/api/v1/flows?number=2&first=true'))).toEqual(['node-1-1', 'node-2-2']);
  });

  it('returns the flows between since and until', async () => {
    await twoNodes();
    expect(uuids(await flowsOf('/api/v1/flows?since=2024-01-01T00:00:02Z&until=2024-01-01T00:00:04Z'))).toEqual(['node-2-2', 'node-1-3', 'node-2-4']);
  });

  it('returns the last 20 flows when nothing selects a range', async () => {
    cluster = await startTestCluster(['node-1']);
    for (let s = 1; s <= 25; s++) cluster.agents[0]?.publish(flowAt('node-1', s));
    const c = cluster;
    await waitFor(async () => (await flowsOf('/api/v1/flows')).at(-1)?.flow?.uuid === 'node-1-25', 'the newest flow');
    const flows = await c.get('/api/v1/flows');
    expect(uuids((flows.body as { flows: GetFlowsResponse[] }).flows)).toEqual(Array.from({ length: 20 }, (_, i) => `node-1-${i + 6}`));
  });

  it('applies a whitelist given as a query parameter', async () => {
    await twoNodes();
    cluster!.agents[1]?.publish(kubeSystemFlow('node-2', 6));
    await waitFor(async () => (await flowsOf('/api/v1/flows?number=1')).at(-1)?.flow?.uuid === 'node-2-dns-6', 'the kube-system flow');
    const whitelist = encodeURIComponent(JSON.stringify([{ source_pod: ['kube-system/'] }, { node_name: ['node-2'], destination_port: ['8080'] }]));
    expect(uuids(await flowsOf(`/api/v1/flows?number=10&whitelist=${whitelist}`))).toEqual(['node-2-2', 'node-2-4', 'node-2-dns-6']);
  });

  it('applies a blacklist given as a query parameter', async () => {
    await twoNodes();
    const blacklist = encodeURIComponent(JSON.stringify([{ node_name: ['node-1'] }]));
    expect(uuids(await flowsOf(`/api/v1/flows?number=10&blacklist=${blacklist}`))).toEqual(['node-2-2', 'node-2-4']);
  });

  it('answers 400 naming the filter parameter, field and value', async () => {
    cluster = await startTestCluster([]);
    expect(await errorOf(`/api/v1/flows?whitelist=${encodeURIComponent('[{"source_ip":["10.0.0.0/33"]}]')}`)).toMatch(
      /^whitelist\[0\]\.source_ip\[0\]: "10\.0\.0\.0\/33" is not an IP address or CIDR/,
    );
    expect(await errorOf(`/api/v1/flows?blacklist=${encodeURIComponent('[{"pod":["x"]}]')}`)).toMatch(/^blacklist\[0\]\.pod: unknown field 'pod'/);
    expect(await errorOf('/api/v1/flows?whitelist=verdict%3DDROPPED')).toMatch(/^whitelist: not JSON/);
  });

  it('answers 400 naming a bad number, first, since or until', async () => {
    cluster = await startTestCluster([]);
    expect(await errorOf('/api/v1/flows?number=0')).toMatch(/^number: '0' is not a whole number from 1/);
    expect(await errorOf('/api/v1/flows?number=5&first=yes')).toMatch(/^first: 'yes' is not true or false/);
    expect(await errorOf('/api/v1/flows?first=true')).toMatch(/^first: needs number/);
    expect(await errorOf('/api/v1/flows?since=yesterday')).toMatch(/^since: 'yesterday' is not a time/);
    expect(await errorOf('/api/v1/flows?until=2024-13-01')).toMatch(/^until: '2024-13-01' is not a time/);
    expect(await errorOf('/api/v1/flows?number=1&number=2')).toMatch(/^number: given more than once/);
  });

  it('answers hostile parameters with 400 naming the parameter, and stays up', async () => {
    cluster = await startTestCluster(['node-1']);
    expect(await errorOf(`/api/v1/flows?since=1${'0'.repeat(400)}h`)).toMatch(/^since: '1000.*…' reaches back before 1970-01-01T00:00:00Z/);
    expect(await errorOf(`/api/v1/flows?until=1${'0'.repeat(400)}h`)).toMatch(/^until: '1000.*…' reaches back before 1970-01-01T00:00:00Z/);
    // 10 KB of brackets, as they are (a URL may hold [ and ]): 5,000 levels of lists.
    const nested = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(await errorOf(`/api/v1/flows?whitelist=${nested}`)).toMatch(/^whitelist\[0\]: \[\[\[.* is not a FlowFilter object/);
    expect(await errorOf(`/api/v1/flows?blacklist=[{"source_ip":${nested}}]`)).toMatch(/^blacklist\[0\]\.source_ip\[0\]: \[\[\[.* is not a string/);
    expect(await errorOf('/api/v1/flows?since=2024-02-30T00:00:00Z')).toBe("since: '2024-02-30T00:00:00Z' is not a real time: day 30 does not exist in 2024-02 (it has 29 days)");
    expect(await errorOf(`/api/v1/service-map?namespace=${'a'.repeat(8000)}`)).toMatch(/^namespace: 'a{40}…' is 8000 characters long; a namespace name has at most 63/);
    expect(await errorOf(`/api/v1/metrics?namespace=${'a'.repeat(8000)}`)).toMatch(/^namespace: 'a{40}…' is 8000 characters long/);
    expect(await errorOf(`/api/v1/flows?whitelist=${encodeURIComponent('[{"http_path":["(a)\\\\1"]}]')}`)).toMatch(/^whitelist\[0\]\.http_path\[0\]: .* \(RE2 syntax, as Hubble's\): invalid escape sequence/);
    expect((await cluster.get('/healthz')).status).toBe(200);
  });

  it('answers 400 naming an unknown parameter', async () => {
    cluster = await startTestCluster([]);
    expect(await errorOf('/api/v1/flows?last=5')).toMatch(/^last: unknown parameter; expected whitelist, blacklist, number, first, since, until/);
  });
});

describe('GET /api/v1/nodes and /api/v1/status', () => {
  it('lists every node as CONNECTED with its agent’s counts', async () => {
    await twoNodes();
    const c = cluster!;
    const nodes = await waitFor(async () => {
      const list = ((await c.get('/api/v1/nodes')).body as { nodes: NodeView[] }).nodes;
      return list.every((node) => node.num_flows > 0) && list.length === 2 ? list : undefined;
    }, 'both nodes’ status');
    expect(nodes).toEqual([
      { name: 'node-1', state: 'CONNECTED', num_flows: 3, max_flows: 255, seen_flows: 3, uptime_ns: expect.any(Number) },
      { name: 'node-2', state: 'CONNECTED', num_flows: 2, max_flows: 255, seen_flows: 2, uptime_ns: expect.any(Number) },
    ]);
  });

  it('sums the connected nodes in the status', async () => {
    await twoNodes();
    const c = cluster!;
    const status = await waitFor(async () => {
      const body = (await c.get('/api/v1/status')).body as RelayStatus;
      return body.num_flows === 5 ? body : undefined;
    }, 'status with five flows');
    expect(status).toEqual({
      num_flows: 5,
      max_flows: 510,
      seen_flows: 5,
      flows_per_second: expect.any(Number),
      uptime_ns: expect.any(Number),
      num_connected_nodes: 2,
      num_unavailable_nodes: 0,
      unavailable_nodes: [],
    });
  });
});

describe('GET /api/v1/namespaces', () => {
  it('lists the namespaces of flows, of pods and the Namespaces of the Kubernetes API', async () => {
    const server = await startTestApiServer();
    createCiliumCrds(server.store);
    const kube = createApiCluster({ kubeConfig: await server.kubeConfig() });
    try {
      server.store.create(server.resource('', 'v1', 'namespaces'), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'quiet' } });
      server.store.create(server.resource('', 'v1', 'namespaces'), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } });
      server.store.create(server.resource('', 'v1', 'pods'), 'quiet', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'quiet-1', namespace: 'quiet' }, spec: { containers: [{ name: 'main', image: 'tycho/echo' }] } });
      await kube.synced;
      cluster = await startTestCluster(['node-1'], { kube });
      cluster.agents[0]?.publish(flowAt('node-1', 1), kubeSystemFlow('node-1', 2));
      const c = cluster;
      const namespaces = await waitFor(async () => {
        const list = ((await c.get('/api/v1/namespaces')).body as { namespaces: string[] }).namespaces;
        return list.includes('kube-system') ? list : undefined;
      }, 'kube-system among the namespaces');
      // The API server double makes Kubernetes' own namespaces, as kube-apiserver does.
      expect(namespaces).toEqual(['default', 'empty', 'kube-node-lease', 'kube-public', 'kube-system', 'quiet']);
    } finally {
      await kube.close();
      await server.close();
    }
  });
});

describe('GET /api/v1/service-map', () => {
  it('draws a namespace’s cards and links from the flows', async () => {
    await twoNodes();
    const c = cluster!;
    const map = await waitFor(async () => {
      const body = (await c.get('/api/v1/service-map?namespace=default')).body as { cards: { title: string }[]; links: { port: number; flows: number }[] };
      return body.links.length > 0 ? body : undefined;
    }, 'a link in the map');
    expect(map.cards.map((card) => card.title).sort()).toEqual(['echo-a', 'pod-to-a']);
    expect(map.links).toMatchObject([{ port: 8080, protocol: 'TCP' }]);
  });

  it('builds the map of the flows since a time', async () => {
    await twoNodes();
    cluster!.agents[0]?.publish(kubeSystemFlow('node-1', 10));
    const c = cluster!;
    await waitFor(async () => (await flowsOf('/api/v1/flows?number=1')).at(-1)?.flow?.uuid === 'node-1-dns-10', 'the kube-system flow');
    const map = (await c.get('/api/v1/service-map?namespace=all&since=2024-01-01T00:00:06Z')).body as { cards: { namespace?: string }[] };
    expect(map.cards.map((card) => card.namespace)).toEqual(['kube-system', 'kube-system']);
  });

  it('answers 400 naming a bad namespace', async () => {
    cluster = await startTestCluster([]);
    expect(await errorOf('/api/v1/service-map?namespace=Not_A_Namespace')).toMatch(/^namespace: 'Not_A_Namespace' is not a namespace name .*; expected a namespace name or 'all'/);
  });
});

describe('health', () => {
  it('/healthz answers while the process runs', async () => {
    cluster = await startTestCluster([]);
    expect(await cluster.get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('/readyz answers 503 until an agent is connected, then 200', async () => {
    cluster = await startTestCluster([]);
    expect((await cluster.get('/readyz')).status).toBe(503);
    const c = cluster;
    const late = testAgent(c.socketDir, 'node-1');
    await late.start();
    try {
      await waitFor(async () => (await c.get('/readyz')).status === 200, '/readyz 200');
    } finally {
      await late.stop();
    }
  });
});

describe('web app', () => {
  it('says how to build the web app when it is not built', async () => {
    cluster = await startTestCluster([]);
    const page = await cluster.get('/');
    expect(page.status).toBe(503);
    expect(page.text).toMatch(/The Tycho web app is not built/);
    expect(page.text).toMatch(/npm run build -w @tycho\/web/);
  });

  it('serves the built files, and index.html for client-side routes', async () => {
    cluster = await startTestCluster([]);
    mkdirSync(join(cluster.webDir, 'assets'), { recursive: true });
    writeFileSync(join(cluster.webDir, 'index.html'), '<!doctype html><title>Tycho</title>');
    writeFileSync(join(cluster.webDir, 'assets', 'app.js'), 'console.log("tycho")');
    expect((await cluster.get('/')).text).toMatch(/<title>Tycho<\/title>/);
    expect((await cluster.get('/assets/app.js')).text).toBe('console.log("tycho")');
    expect((await cluster.get('/namespaces/default?selected=echo-a')).text).toMatch(/<title>Tycho<\/title>/);
  });

  it('answers unknown API paths with a JSON 404, not the web app', async () => {
    cluster = await startTestCluster([]);
    expect(await cluster.get('/api/v1/nothing')).toMatchObject({ status: 404, body: { error: 'no such API: GET /api/v1/nothing' } });
  });
});
