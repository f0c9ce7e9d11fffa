import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  BackendServiceIndex,
  buildServiceModel,
  compileServiceMaps,
  diffServiceMaps,
  serviceListRows,
  serviceMapOps,
  type ServiceListRow,
  type ServiceMapEntries,
  type ServiceModel,
  type ServiceModelOptions,
  type ServiceMapOp,
  type ServiceName,
} from '@tycho/services';
import type { ClusterView } from './clusterState.ts';

/** What the controller needs of the kernel side (ServiceDatapath in @tycho/datapath; tests record). */
export interface ServiceLbDatapath {
  /** Makes the maps hold exactly these entries (first write after a start: the pins may hold an older agent's state). */
  sync(entries: ServiceMapEntries): unknown;
  /** Writes these changes in order. */
  apply(ops: readonly ServiceMapOp[]): void;
  setNodeAddresses(addresses: readonly { address: string; local: boolean }[]): void;
}

/** What Tycho handles in place of kube-proxy, for `tycho status`. */
export interface KubeProxyReplacementStatus {
  /** Socket-level translation (connect/sendmsg/recvmsg/getpeername) at this node's cgroup. */
  readonly socketLB: boolean;
  readonly cgroup?: string;
  /** Per-packet DNAT at tc for traffic that arrives from the network (NodePort, ExternalIPs, LoadBalancer from outside). */
  readonly nodePortFromOutside: boolean;
  /** The uplink where that per-packet translation runs (bpf_host.c), with nodePortFromOutside. */
  readonly lbDevice?: string;
  /** Backend choice for traffic from outside: Maglev tables for routable frontends, or random. */
  readonly lbAlgorithm?: 'random' | 'maglev';
}

/** `GET /v1/services`. */
export interface ServicesStatus {
  readonly node_name: string;
  readonly kube_proxy_replacement: KubeProxyReplacementStatus;
  /** `serviceListRows` of the model in force: what `tycho service list` prints. */
  readonly services: readonly ServiceListRow[];
  /** Times the maps were written from a new model. */
  readonly revision: number;
  /** Why the last build failed (the maps keep the model before it). */
  readonly error?: string;
}

export interface ServicesControllerOptions {
  nodeName: string;
  /** The informers' caches; the agent calls `schedule` on their changes. */
  store: Pick<ClusterView, 'listServices' | 'listEndpointSlices' | 'listNodes'>;
  datapath: ServiceLbDatapath;
  kubeProxyReplacement: KubeProxyReplacementStatus;
  /** Where ids and addresses persist across agent restarts (JSON), so a service keeps its id. */
  stateFile?: string;
  /** How long to gather informer changes before rebuilding. */
  debounceMs?: number;
  /**
   * Backend choice for per-packet traffic from outside (Cilium's
   * loadBalancer.algorithm): `maglev` (default) gives every routable frontend
   * with backends a Maglev table, rebuilt as its backends change; ClusterIPs
   * never get one (sockets pick at random at connect time).
   */
  lbAlgorithm?: 'random' | 'maglev';
  /** Prime Maglev table size (default 16381). */
  maglevTableSize?: number;
  log?: (message: string) => void;
}

type Previous = NonNullable<ServiceModelOptions['previous']>;

/**
 * The node's service load-balancer control loop: Services, EndpointSlices
 * and Nodes from the informers' caches → `buildServiceModel` (ids and addresses kept from the
 * model before) → this node's map records → only the changes written, in
 * `serviceMapOps`' safe order. The first write after a start is a full sync,
 * because the pinned maps may still hold an older agent's entries. A model
 * that cannot be built (a bad Service) is logged and reported, and the maps
 * keep the last good one.
 */
export class ServicesController {
  private model: ServiceModel | undefined;
  private backendServices: BackendServiceIndex | undefined;
  private entries: ServiceMapEntries | undefined;
  private previous: Previous | undefined;
  private revisionNumber = 0;
  private lastError: string | undefined;
  private lastErrorLogged: string | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private readonly log: (message: string) => void;

  constructor(private readonly options: ServicesControllerOptions) {
    this.log = options.log ?? (() => {});
    this.previous = options.stateFile ? readPrevious(options.stateFile, this.log) : undefined;
  }

  get revision(): number {
    return this.revisionNumber;
  }

  /** Rebuilds the model and writes what changed. Never throws: failures are logged and kept for status(). */
  sync(): void {
    let model: ServiceModel;
    let next: ServiceMapEntries;
    try {
      const { store } = this.options;
      model = buildServiceModel(
        { services: store.listServices(), endpointSlices: store.listEndpointSlices(), nodes: store.listNodes() },
        this.previous ? { previous: this.previous } : {},
      );
      next = compileServiceMaps(model, this.options.nodeName, {
        algorithm: this.options.lbAlgorithm ?? 'maglev',
        ...(this.options.maglevTableSize === undefined ? {} : { maglevTableSize: this.options.maglevTableSize }),
      });
    } catch (err) {
      this.fail(`cannot build the service model: ${(err as Error).message}`);
      return;
    }
    try {
      this.options.datapath.setNodeAddresses(
        model.nodes.flatMap((node) => node.addresses.map((address) => ({ address, local: node.name === this.options.nodeName }))),
      );
      if (this.entries) this.options.datapath.apply(serviceMapOps(diffServiceMaps(this.entries, next)));
      else this.options.datapath.sync(next);
    } catch (err) {
      // Half-written: the next sync starts over with a full one.
      this.entries = undefined;
      this.fail(`cannot write the service maps: ${(err as Error).message}`);
      return;
    }
    const changed = !this.entries || JSON.stringify(serviceListRows(model, this.options.nodeName)) !== JSON.stringify(this.rows());
    this.model = model;
    this.backendServices = new BackendServiceIndex(model);
    this.entries = next;
    this.previous = { frontendIds: model.frontendIds, backendIds: model.backendIds, addresses: model.addresses };
    this.lastError = undefined;
    this.lastErrorLogged = undefined;
    if (changed) {
      this.revisionNumber++;
      this.log(`services: ${next.services.filter((e) => e.key.backendSlot === 0).length} frontend entries, ${next.backends.length} backends programmed`);
      if (this.options.stateFile) writePrevious(this.options.stateFile, this.previous, this.log);
    }
  }

  /** Rebuilds soon, gathering a burst of informer changes into one rebuild. */
  schedule(): void {
    if (this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.sync();
    }, this.options.debounceMs ?? 50);
    this.debounceTimer.unref();
  }

  /** The one service whose backend this is (for `destination_service` on flows). */
  serviceOfBackend(address: string, port: number, protocol: 'TCP' | 'UDP'): ServiceName | undefined {
    return this.backendServices?.serviceOf(address, port, protocol);
  }

  status(): ServicesStatus {
    return {
      node_name: this.options.nodeName,
      kube_proxy_replacement: this.options.kubeProxyReplacement,
      services: this.rows(),
      revision: this.revisionNumber,
      ...(this.lastError ? { error: this.lastError } : {}),
    };
  }

  close(): void {
    clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
  }

  private rows(): ServiceListRow[] {
    return this.model ? serviceListRows(this.model, this.options.nodeName) : [];
  }

  private fail(message: string): void {
    this.lastError = message;
    // Every change retries; say it once until it changes.
    if (message !== this.lastErrorLogged) this.log(message);
    this.lastErrorLogged = message;
  }
}

function readPrevious(file: string, log: (message: string) => void): Previous | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<Previous>;
    if (value && typeof value === 'object' && value.frontendIds && value.backendIds && value.addresses) return value as Previous;
    log(`services: ignoring ${file}: expected {frontendIds, backendIds, addresses}`);
  } catch (err) {
    log(`services: ignoring ${file}: not JSON: ${(err as Error).message}`);
  }
  return undefined;
}

function writePrevious(file: string, previous: Previous, log: (message: string) => void): void {
  try {
    writeFileSync(`${file}.tmp`, JSON.stringify(previous));
    renameSync(`${file}.tmp`, file);
  } catch (err) {
    log(`services: cannot save ids to ${file}: ${(err as Error).message}`);
  }
}
