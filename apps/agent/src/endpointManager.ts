import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { EndpointInfo } from '@tycho/datapath';
import { endpointRegistrationSchema, type EndpointRegistration } from './endpointRegistration.ts';
import type { PodSecurity } from './ipCache.ts';

/** The part of NodeDatapath the endpoint manager drives. */
export interface EndpointDatapath {
  attachEndpoint(ifindex: number, info: EndpointInfo): void;
  detachEndpoint(ifindex: number): void;
}

/** A pod on this node, attached to the datapath through its host-side veth. */
export interface LocalEndpoint extends EndpointRegistration {
  id: number;
  identity: number;
  labels: string[];
}

const localEndpointSchema = endpointRegistrationSchema.extend({
  id: z.number().int().positive(),
  identity: z.number().int().nonnegative(),
  labels: z.array(z.string()),
});

/** Endpoint ids are small integers unique on the node, as Cilium's (1–4095). */
const MAX_ENDPOINT_ID = 4095;

export interface EndpointManagerOptions {
  /** Endpoint state lives in `<stateDir>/endpoints/<containerId>.json`. */
  stateDir: string;
  datapath: EndpointDatapath;
  /** Security identity of a pod, from its labels. */
  resolvePod: (namespace: string, podName: string) => PodSecurity;
  log?: (message: string) => void;
}

/**
 * Registers the endpoints the CNI plugin creates: allocates an endpoint id,
 * resolves the pod's identity, attaches the datapath programs to the pod's
 * host-side veth and persists the endpoint, so a restarted agent re-attaches
 * everything it had. Deregistering detaches and forgets.
 */
export class EndpointManager {
  private readonly byContainer = new Map<string, LocalEndpoint>();
  private readonly dir: string;
  private readonly log: (message: string) => void;

  constructor(private readonly options: EndpointManagerOptions) {
    this.dir = join(options.stateDir, 'endpoints');
    this.log = options.log ?? (() => {});
    mkdirSync(this.dir, { recursive: true });
  }

  /**
   * Loads persisted endpoints and attaches them again. An endpoint whose
   * state cannot be read or whose veth cannot be attached any more (the pod
   * went away while the agent was down) is dropped.
   */
  restore(): LocalEndpoint[] {
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.json')) continue;
      const path = join(this.dir, file);
      let endpoint: LocalEndpoint;
      try {
        endpoint = localEndpointSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
      } catch (err) {
        this.log(`endpoint state ${path} is unreadable, dropping it: ${(err as Error).message}`);
        rmSync(path, { force: true });
        continue;
      }
      const security = this.options.resolvePod(endpoint.namespace, endpoint.podName);
      const idTaken = this.list().some((other) => other.id === endpoint.id);
      const restored = { ...endpoint, id: idTaken ? this.allocateId() : endpoint.id, identity: security.identity, labels: security.labels };
      try {
        this.attach(restored);
      } catch (err) {
        this.log(`endpoint ${restored.id} (${restored.namespace}/${restored.podName}) could not be re-attached, dropping it: ${(err as Error).message}`);
        rmSync(path, { force: true });
        continue;
      }
      this.byContainer.set(restored.containerId, restored);
      this.persist(restored);
    }
    return this.list();
  }

  /** Registers (or, for a known container, re-registers) an endpoint. */
  register(registration: EndpointRegistration): LocalEndpoint {
    const previous = this.byContainer.get(registration.containerId);
    const security = this.options.resolvePod(registration.namespace, registration.podName);
    const endpoint: LocalEndpoint = {
      ...registration,
      id: previous?.id ?? this.allocateId(),
      identity: security.identity,
      labels: security.labels,
    };
    if (previous && previous.hostIfindex !== endpoint.hostIfindex) this.options.datapath.detachEndpoint(previous.hostIfindex);
    this.attach(endpoint);
    this.persist(endpoint);
    this.byContainer.set(endpoint.containerId, endpoint);
    return endpoint;
  }

  /** Detaches and forgets an endpoint; unknown containers are already gone. */
  deregister(containerId: string): void {
    const endpoint = this.byContainer.get(containerId);
    if (endpoint) this.options.datapath.detachEndpoint(endpoint.hostIfindex);
    this.byContainer.delete(containerId);
    rmSync(this.stateFile(containerId), { force: true });
  }

  list(): LocalEndpoint[] {
    return [...this.byContainer.values()].sort((a, b) => a.id - b.id);
  }

  byIp(ip: string): LocalEndpoint | undefined {
    for (const endpoint of this.byContainer.values()) if (endpoint.ipv4 === ip) return endpoint;
    return undefined;
  }

  byIfindex(ifindex: number): LocalEndpoint | undefined {
    for (const endpoint of this.byContainer.values()) if (endpoint.hostIfindex === ifindex) return endpoint;
    return undefined;
  }

  private attach(endpoint: LocalEndpoint): void {
    this.options.datapath.attachEndpoint(endpoint.hostIfindex, { endpointId: endpoint.id, identity: endpoint.identity, flags: 0 });
  }

  private allocateId(): number {
    const used = new Set([...this.byContainer.values()].map((endpoint) => endpoint.id));
    for (let id = 1; id <= MAX_ENDPOINT_ID; id++) if (!used.has(id)) return id;
    throw new Error(`endpoint manager: all ${MAX_ENDPOINT_ID} endpoint ids on this node are in use`);
  }

  private stateFile(containerId: string): string {
    return join(this.dir, `${containerId}.json`);
  }

  private persist(endpoint: LocalEndpoint): void {
    const file = this.stateFile(endpoint.containerId);
    writeFileSync(`${file}.tmp`, `${JSON.stringify(endpoint, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }
}
