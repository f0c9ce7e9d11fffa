import { join } from 'node:path';
import { createApiServer, Observer, type ApiServer } from '@tycho/agent';
import type { Flow } from '@tycho/flow';

/**
 * What the CLI's observe tests share: real agents (the agent's own API server
 * and Observer) on `<socketDir>/<node>/agent.sock`, with flows put into their
 * observers directly.
 */

export const T0 = Date.UTC(2024, 0, 1, 0, 20, 0);

/** A flow on `node` at T0 + `ms`, uuid `<node>-<ms>`. */
export function flowAt(node: string, ms: number): Flow {
  return {
    time: new Date(T0 + ms).toISOString(),
    uuid: `${node}-${ms}`,
    verdict: 'FORWARDED',
    IP: { source: '10.244.0.5', destination: '10.244.1.7', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000 + (ms % 20000), destination_port: 8080, flags: { SYN: true } } },
    source: { identity: 12345, namespace: 'default', pod_name: 'pod-to-a-5f7c', labels: ['k8s:name=pod-to-a'] },
    destination: { identity: 23456, namespace: 'default', pod_name: 'echo-a-6d9c', labels: ['k8s:name=echo-a'] },
    Type: 'L3_L4',
    node_name: node,
    is_reply: false,
    event_type: { type: 4, sub_type: 5 },
    traffic_direction: 'EGRESS',
    trace_observation_point: 'FROM_ENDPOINT',
    Summary: 'TCP Flags: SYN',
  };
}

export interface TestAgent {
  readonly observer: Observer;
  publish(...flows: Flow[]): void;
  /** Starts (or restarts) the agent's API server; the observer keeps its flows. */
  start(): Promise<void>;
  /** Stops the API server, cutting every open stream off (code 1006), as a crashing agent does. */
  stop(): Promise<void>;
}

export function testAgent(socketDir: string, node: string, ringCapacity = 255): TestAgent {
  const observer = new Observer({ nodeName: node, ringCapacity });
  let server: ApiServer | undefined;
  return {
    observer,
    publish: (...flows) => flows.forEach((flow) => observer.publish(flow)),
    async start() {
      server = createApiServer({ observer, endpoints: { register: () => { throw new Error('no endpoints in observe tests'); }, deregister: () => {}, list: () => [] } });
      await server.listen(join(socketDir, node, 'agent.sock'));
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
  };
}
