import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentResponseError, AgentUnreachableError, createAgentClient, type EndpointRegistration } from './agentClient.ts';

const registration: EndpointRegistration = {
  containerId: 'abc123',
  podName: 'echo-a',
  namespace: 'default',
  netns: '/var/run/netns/tycho-pod-default-echo-a',
  ifname: 'eth0',
  hostIfname: 'lxc0123456789a',
  hostIfindex: 7,
  ipv4: '10.244.0.2',
};

describe('createAgentClient', () => {
  let dir: string;
  let socketPath: string;
  let server: Server | undefined;

  /** A scripted stand-in for the agent's endpoint API, answering every request with `listener`. */
  async function agentStandIn(listener: RequestListener): Promise<void> {
    server = createServer(listener);
    await new Promise<void>((resolve) => server?.listen(socketPath, resolve));
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tycho-t-cni-agent-'));
    socketPath = join(dir, 'agent.sock');
  });

  afterEach(async () => {
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the endpoint id and identity from a 201 answer', async () => {
    await agentStandIn((_req, res) => res.writeHead(201).end('{"id":12,"identity":300}'));
    expect(await createAgentClient(socketPath).registerEndpoint(registration)).toEqual({ id: 12, identity: 300 });
  });

  it('reports a missing socket as unreachable', async () => {
    await expect(createAgentClient(socketPath).registerEndpoint(registration)).rejects.toBeInstanceOf(AgentUnreachableError);
  });

  it('reports an agent that never answers as unreachable', async () => {
    await agentStandIn(() => undefined);
    await expect(createAgentClient(socketPath, { timeoutMs: 200 }).registerEndpoint(registration)).rejects.toBeInstanceOf(AgentUnreachableError);
  });

  it('reports an error status with the agent body', async () => {
    await agentStandIn((_req, res) => res.writeHead(409).end('endpoint exists'));
    await expect(createAgentClient(socketPath).registerEndpoint(registration)).rejects.toThrow(/HTTP 409: endpoint exists/);
  });

  it('reports an answer without {id, identity} as a response error', async () => {
    await agentStandIn((_req, res) => res.writeHead(201).end('{"id":12}'));
    await expect(createAgentClient(socketPath).registerEndpoint(registration)).rejects.toBeInstanceOf(AgentResponseError);
  });

  it('treats deregistering an endpoint the agent does not know as done', async () => {
    await agentStandIn((_req, res) => res.writeHead(404).end());
    await expect(createAgentClient(socketPath).deregisterEndpoint('abc123')).resolves.toBeUndefined();
  });
});
