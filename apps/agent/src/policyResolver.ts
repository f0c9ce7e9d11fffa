import {
  CidrIdentityAllocator,
  type DnsRecord,
  type Direction,
  type EndpointPolicy,
  fqdnSelectorsOf,
  type Identity,
  namespaceIdentityLabels,
  nextDnsExpiry,
  type Policy,
  PolicyEngine,
  type PolicyEngineWork,
  type PolicyRef,
  POD_NAMESPACE_KEY,
} from '@tycho/policy';
import type { PolicyDatapath } from './policyDatapath.ts';

/** A pod on this node, as the resolver needs it. */
export interface PolicyEndpointView {
  id: number;
  identity: number;
  labels: readonly string[];
  namespace: string;
  podName: string;
}

export interface PolicyResolverOptions {
  /** The policies in force, their revision and the stored objects that do not parse (left out); throws when they cannot be read (the last good set is kept). */
  readPolicies: () => { revision: number; policies: Policy[]; invalid?: readonly string[] };
  /** Labels of namespaces by name; namespaces not listed get only `kubernetes.io/metadata.name`. */
  namespaceLabels: () => ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Every workload identity of the cluster. */
  identities: () => readonly Identity[];
  endpoints: () => readonly PolicyEndpointView[];
  dnsRecords: () => readonly DnsRecord[];
  datapath: PolicyDatapath;
  /** Epoch milliseconds. */
  now?: () => number;
  log?: (message: string) => void;
}

/** What `GET /v1/policies` shows for one endpoint. */
export interface EndpointPolicyStatus {
  id: number;
  namespace: string;
  pod_name: string;
  identity: number;
  selected_by: string[];
  ingress: { enforced: boolean; enforced_by: string[]; rules: number };
  egress: { enforced: boolean; enforced_by: string[]; rules: number };
  /** Why the datapath could not take this endpoint's policy (e.g. the policy map is full); the last written policy stays in force. */
  datapath_error?: string;
}

export interface PolicyResolverStatus {
  revision: number;
  /** The revision whose resolution the datapath has taken in full (every map written): what is enforced. */
  programmed_revision: number;
  policies: { kind: string; namespace: string; name: string }[];
  endpoints: EndpointPolicyStatus[];
  cidr_identities: number;
  /** RFC 3339 time of the next re-resolution caused by a DNS answer running out, if any. */
  next_dns_expiry?: string;
  /** Why the last read of the policies failed (the last good ones stay in force). */
  error?: string;
  /** Stored policy objects that do not parse, each with what is wrong: they are not in force, the others are. */
  invalid_policies?: string[];
}

/**
 * The agent's policy loop: resolves the policies of this node's endpoints
 * whenever policies, identities, namespaces, endpoints or DNS answers
 * change (the agent schedules it on its informers' changes), and when a DNS answer a toFQDNs rule uses runs out; hands changed
 * results to the PolicyDatapath, and keeps them for naming policies on flows.
 * A PolicyEngine does the work, only what a change calls for, in steps: the
 * resolver gives way to the event loop between them, so that the observer,
 * the status and the ring buffer keep being served while a large policy is
 * resolved. One resolution runs at a time; changes meanwhile start one more.
 */
export class PolicyResolver {
  private readonly now: () => number;
  private readonly log: (message: string) => void;
  private readonly cidrs = new CidrIdentityAllocator();
  private readonly engine = new PolicyEngine();
  private policies: Policy[] = [];
  private revisionNumber = 0;
  private programmedRevision = 0;
  private readError: string | undefined;
  private views = new Map<number, PolicyEndpointView>();
  /** Endpoint directions the datapath has not taken yet (it threw): sent again at the next resolution. */
  private readonly unsent = new Map<number, Set<Direction>>();
  private readonly unremoved = new Set<number>();
  private readonly datapathErrors = new Map<number, string>();
  private cidrList: Identity[] = [];
  private cidrById = new Map<number, Identity>();
  private sentCidrs = new Map<number, Identity>();
  private nextExpiryMs: number | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private invalid: readonly string[] = [];
  private running: Promise<void> | undefined;
  private again = false;
  private scheduled = false;
  private closed = false;
  private resolutions = 0;

  constructor(private readonly options: PolicyResolverOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => {});
  }

  /** The store revision of the policies in force. */
  get revision(): number {
    return this.revisionNumber;
  }

  /** How many times the policies were resolved (tests wait on it). */
  get resolutionCount(): number {
    return this.resolutions;
  }

  /** How much resolution work was done so far (tests and benchmarks read it). */
  get work(): PolicyEngineWork {
    return this.engine.stats;
  }

  /**
   * Resolves now (after the running resolution, if any); settles when done.
   * Never rejects: a failure is logged and the last good state stays.
   */
  resolve(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.resolveOnce().catch((err: unknown) => this.log(`policies: ${(err as Error).message}`));
        } while (this.again && !this.closed);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Resolves once soon, however many changes arrive before then. */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.resolve();
    });
  }

  /** Settles when no resolution is running or scheduled. */
  async idle(): Promise<void> {
    while (this.running || this.scheduled) {
      await (this.running ?? new Promise((resolve) => setImmediate(resolve)));
    }
  }

  private async resolveOnce(): Promise<void> {
    this.resolutions++;
    this.readPolicies();
    const revision = this.revisionNumber;
    const nowMs = this.now();
    const records = this.options.dnsRecords();
    const namespaceLabels = this.options.namespaceLabels();
    const withNamespace = (labels: readonly string[]) => withNamespaceLabels(labels, namespaceLabels);
    const views = this.options.endpoints();
    const steps = this.engine.update({
      policies: this.policies,
      identities: this.options.identities().map((identity) => ({ id: identity.id, labels: withNamespace(identity.labels) })),
      endpoints: views.map((view) => ({ id: view.id, identity: view.identity, labels: withNamespace(view.labels) })),
      dnsRecords: records,
      nowMs,
      cidrIdentities: (prefixes) => {
        const { added, removed } = this.cidrs.sync(prefixes);
        if (added.length > 0 || removed.length > 0) {
          this.cidrList = this.cidrs.identities();
          this.cidrById = new Map(this.cidrList.map((identity) => [identity.id, identity]));
        }
        return this.cidrList;
      },
    });
    const changes = await inSteps(steps);
    this.views = new Map(views.map((view) => [view.id, view]));
    await this.sendCidrChanges();
    for (const endpointId of changes.removed) this.unremoved.add(endpointId);
    for (const { endpointId, direction } of changes.changed) {
      let directions = this.unsent.get(endpointId);
      if (!directions) this.unsent.set(endpointId, (directions = new Set()));
      directions.add(direction);
    }
    await this.sendChanges();
    if (this.unsent.size === 0 && this.unremoved.size === 0) this.programmedRevision = revision;
    this.armDnsExpiry(nextDnsExpiry(fqdnSelectorsOf(this.policies), records, nowMs), nowMs);
  }

  /** The resolved policy of a local endpoint. */
  policyOf(endpointId: number): EndpointPolicy | undefined {
    return this.engine.policyOf(endpointId);
  }

  /** The node-local CIDR identities; the same array until they change. */
  cidrIdentities(): readonly Identity[] {
    return this.cidrList;
  }

  cidrIdentity(id: number): Identity | undefined {
    return this.cidrById.get(id);
  }

  status(): PolicyResolverStatus {
    const names = (refs: readonly PolicyRef[]) => refs.map(policyDisplayName);
    const endpoints = this.engine.endpointIds().map((endpointId): EndpointPolicyStatus => {
      const policy = this.engine.policyOf(endpointId)!;
      const view = this.views.get(policy.endpointId);
      const datapathError = this.datapathErrors.get(endpointId);
      return {
        id: policy.endpointId,
        namespace: view?.namespace ?? '',
        pod_name: view?.podName ?? '',
        identity: policy.identity,
        selected_by: names(policy.selectedBy),
        ingress: { enforced: policy.ingress.enforced, enforced_by: names(policy.ingress.enforcedBy), rules: policy.ingress.entries.length },
        egress: { enforced: policy.egress.enforced, enforced_by: names(policy.egress.enforcedBy), rules: policy.egress.entries.length },
        ...(datapathError ? { datapath_error: datapathError } : {}),
      };
    });
    return {
      revision: this.revisionNumber,
      programmed_revision: this.programmedRevision,
      policies: this.policies.map((policy) => ({ ...policy.ref })),
      endpoints: endpoints.sort((a, b) => a.id - b.id),
      cidr_identities: this.cidrList.length,
      ...(this.nextExpiryMs !== undefined ? { next_dns_expiry: new Date(this.nextExpiryMs).toISOString() } : {}),
      ...(this.readError ? { error: this.readError } : {}),
      ...(this.invalid.length > 0 ? { invalid_policies: [...this.invalid] } : {}),
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.expiryTimer);
  }

  private readPolicies(): void {
    try {
      const { revision, policies, invalid = [] } = this.options.readPolicies();
      for (const problem of invalid) if (!this.invalid.includes(problem)) this.log(`policies: left out: ${problem}`);
      this.policies = policies;
      this.revisionNumber = revision;
      this.invalid = invalid;
      this.readError = undefined;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.readError) this.log(`policies: keeping revision ${this.revisionNumber}: ${message}`);
      this.readError = message;
    }
  }

  /** Hands the datapath every endpoint direction it has not taken yet, and the endpoints that went away. */
  private async sendChanges(): Promise<void> {
    for (const endpointId of [...this.unremoved]) {
      this.unsent.delete(endpointId);
      this.datapathErrors.delete(endpointId);
      if (this.callDatapath(() => this.options.datapath.removeEndpoint(endpointId))) this.unremoved.delete(endpointId);
    }
    for (const [endpointId, directions] of [...this.unsent]) {
      let failure: string | undefined;
      for (const direction of [...directions]) {
        const state = this.engine.directionState(endpointId, direction);
        if (!state) {
          directions.delete(direction);
          continue;
        }
        try {
          const datapath = this.options.datapath;
          if (datapath.setEndpointPolicySteps) await inSteps(datapath.setEndpointPolicySteps(endpointId, direction, state));
          else datapath.setEndpointPolicy(endpointId, direction, state);
          directions.delete(direction);
        } catch (err) {
          failure = `${direction}: ${(err as Error).message}`;
        }
      }
      if (directions.size === 0) this.unsent.delete(endpointId);
      if (failure === undefined) this.datapathErrors.delete(endpointId);
      else if (this.datapathErrors.get(endpointId) !== failure) {
        this.datapathErrors.set(endpointId, failure);
        this.log(`policy datapath: endpoint ${endpointId}: ${failure}`);
      }
    }
  }

  /** Tells the datapath how the CIDR identities differ from what it was last told successfully. */
  private async sendCidrChanges(): Promise<void> {
    const wanted = this.cidrById;
    const added = [...wanted.values()].filter((identity) => !this.sentCidrs.has(identity.id));
    const removed = [...this.sentCidrs.values()].filter((identity) => !wanted.has(identity.id));
    if (added.length === 0 && removed.length === 0) return;
    const datapath = this.options.datapath;
    try {
      if (datapath.updateCidrIdentitiesSteps) await inSteps(datapath.updateCidrIdentitiesSteps(added, removed));
      else datapath.updateCidrIdentities(added, removed);
      this.sentCidrs = wanted;
    } catch (err) {
      this.log(`policy datapath: ${(err as Error).message}`);
    }
  }

  private armDnsExpiry(expiryMs: number | undefined, nowMs: number): void {
    if (expiryMs === this.nextExpiryMs) return;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.nextExpiryMs = expiryMs;
    if (expiryMs === undefined) return;
    this.expiryTimer = setTimeout(() => {
      this.nextExpiryMs = undefined;
      void this.resolve();
    }, Math.max(0, expiryMs - nowMs));
    this.expiryTimer.unref();
  }

  /** False when the datapath threw (logged); what was not sent is sent again at the next resolution. */
  private callDatapath(call: () => void): boolean {
    try {
      call();
      return true;
    } catch (err) {
      this.log(`policy datapath: ${(err as Error).message}`);
      return false;
    }
  }
}

/** Runs bounded steps to the end, letting whatever else waits run between two. */
async function inSteps<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** `ns/name`, or `name` for a clusterwide policy, with its kind: `CiliumNetworkPolicy default/x`. */
export function policyDisplayName(ref: PolicyRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/**
 * A pod's labels with its namespace's labels added
 * (`k8s:io.cilium.k8s.namespace.labels.<key>=<value>`), as Cilium's
 * identities carry them; only the resolver sees them, so identity numbers
 * and the labels shown on flows stay as they are.
 */
export function withNamespaceLabels(labels: readonly string[], namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>): string[] {
  const prefix = `k8s:${POD_NAMESPACE_KEY}=`;
  const namespace = labels.find((label) => label.startsWith(prefix))?.slice(prefix.length);
  if (namespace === undefined) return [...labels];
  return [...labels, ...namespaceIdentityLabels(namespace, namespaceLabels.get(namespace))];
}
