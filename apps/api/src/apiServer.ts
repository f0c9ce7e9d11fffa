import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentAddress } from '@tycho/agent/client';
import type { ApiCluster } from './apiCluster.ts';
import { AgentRelay, type AgentRelayOptions } from './agentRelay.ts';
import { createApp } from './app.ts';
import { MetricsTimeline } from './metricsTimeline.ts';
import { NamespaceCatalog } from './namespaceCatalog.ts';
import { ServiceMapService, type ServiceMapServiceOptions } from './serviceMapService.ts';
import { createStreamHub, type StreamHubOptions } from './streamHub.ts';

export interface TychoApiOptions {
  port: number;
  host: string;
  /** Agents by socket in this directory (`<dir>/<node>/agent.sock`), re-scanned for new nodes. */
  socketDir?: string;
  /** A fixed list of agents. */
  agents?: readonly AgentAddress[];
  webDir: string;
  kube?: ApiCluster;
  relay?: Omit<AgentRelayOptions, 'agents' | 'socketDir' | 'log'>;
  stream?: Pick<StreamHubOptions, 'batchMs' | 'maxBufferedBytes' | 'maxPendingFlows' | 'messageBurst' | 'messagesPerSecond' | 'replayChunkEntries' | 'now'>;
  serviceMaps?: ServiceMapServiceOptions;
  log?: (line: string) => void;
}

/**
 * Starts the API process's parts: the relay following every agent, the
 * service maps, the HTTP app and the stream hub on one port.
 */
export async function startTychoApi(options: TychoApiOptions) {
  const log = options.log ?? ((line: string) => console.error(`[api] ${line}`));
  const relay = new AgentRelay({
    ...options.relay,
    ...(options.agents ? { agents: options.agents } : {}),
    ...(options.socketDir !== undefined ? { socketDir: options.socketDir } : {}),
    log,
  });
  const namespaces = new NamespaceCatalog(options.kube);
  relay.onFlow((flow) => namespaces.add(flow));
  const metrics = new MetricsTimeline();
  relay.onFlow((flow, _timeNs, _flowJson, timeMs) => metrics.add(flow, timeMs));
  const serviceMaps = new ServiceMapService(relay, options.serviceMaps);
  const hub = createStreamHub({ relay, serviceMaps, ...options.stream, log });
  const app = createApp({ relay, serviceMaps, namespaces, metrics, webDir: options.webDir, log, ...(options.kube ? { kube: options.kube } : {}) });
  const server: Server = createServer(app);
  server.on('upgrade', (req, socket, head) => {
    if (!hub.handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  serviceMaps.start();
  relay.start();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    relay,
    serviceMaps,
    hub,
    port: address.port,
    url: `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`,
    async close(): Promise<void> {
      hub.close();
      relay.stop();
      serviceMaps.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  } as const;
}

export type TychoApi = Awaited<ReturnType<typeof startTychoApi>>;
