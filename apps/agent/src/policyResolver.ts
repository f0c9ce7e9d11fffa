import { watchKubeStore } from '@tycho/kube';
import {
  CidrIdentityAllocator,
  type DnsRecord,
  type Direction,
  directionNeedsLookup,
  type EndpointPolicy,
  fqdnSelectorsOf,
  type Identity,
  namespaceIdentityLabels,
  nextDnsExpiry,
  type Policy,
  type PolicyRef,
  policyMapKeys,
  POD_NAMESPACE_KEY,
  requiredCidrs,
  resolveEndpointPolicies,
} from '@tycho/policy';
import type { DirectionMapState, PolicyDatapath } from './policyDatapath.ts';

/** A pod on this node, as the resolver needs it. */
export interface PolicyEndpointView {
  id: number;
  identity: number;
  labels: readonly string[];
  namespace: string;
  podName: string;
}

export interface PolicyResolverOptions {
  /** The policies in force and the store's revision; throws when the store cannot be read (the last good set is kept). */
  readPolicies: () => { revision: number; policies: Policy[] };
  /** Labels of namespaces by name; namespaces not listed get only `kubernetes.io/metadata.name`. */
  namespaceLabels: () => ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Every workload identity of the cluster. */
  identities: () => readonly Identity[];
  endpoints: () => readonly PolicyEndpointView[];
  dnsRecords: () => readonly DnsRecord[];
  datapath: PolicyDatapath;
  /** Epoch milliseconds. */
  now?: () => number;
  /** How often the policy revision is checked besides file-system events. */
  pollMs?: number;
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
}

export interface PolicyResolverStatus {
  revision: number;
  policies: { kind: string; namespace: string; name: string }[];
  endpoints: EndpointPolicyStatus[];
  cidr_identities: number;
  /** RFC 3339 time of the next re-resolution caused by a DNS answer running out, if any. */
  next_dns_expiry?: string;
  /** Why the last read of the policies failed (the last good ones stay in force). */
  error?: string;
}

/**
 * The agent's policy loop: resolves the policies of this node's endpoints
 * (`resolveEndpointPolicies`) whenever policies, identities, namespaces,
 * endpoints or DNS answers change, and when a DNS answer a toFQDNs rule uses
 * runs out; hands changed results to the PolicyDatapath, and keeps them for
 * naming policies on flows.
 */
export class PolicyResolver {
  private readonly now: () => number;
  private readonly log: (message: string) => void;
  private readonly cidrs = new CidrIdentityAllocator();
  private policies: Policy[] = [];
  private revisionNumber = 0;
  private readError: string | undefined;
  private byEndpoint = new Map<number, EndpointPolicy>();
  private views = new Map<number, PolicyEndpointView>();
  /** What the datapath was last given, per endpoint and direction (JSON), so unchanged results are not sent again. */
  private readonly sent = new Map<number, Partial<Record<Direction, string>>>();
  private sentCidrs = new Map<number, Identity>();
  private nextExpiryMs: number | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private watcher: { close(): void } | undefined;
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

  /** Resolves now. */
  resolve(): void {
    if (this.closed) return;
    this.resolutions++;
    this.readPolicies();
    const nowMs = this.now();
    const records = this.options.dnsRecords();
    this.cidrs.sync(requiredCidrs(this.policies, records, nowMs));
    this.sendCidrChanges();

    const namespaceLabels = this.options.namespaceLabels();
    const withNamespace = (labels: readonly string[]) => withNamespaceLabels(labels, namespaceLabels);
    const identities = [
      ...this.options.identities().map((identity) => ({ id: identity.id, labels: withNamespace(identity.labels) })),
      ...this.cidrs.identities(),
    ];
    const views = this.options.endpoints();
    const resolved = resolveEndpointPolicies(
      views.map((view) => ({ id: view.id, identity: view.identity, labels: withNamespace(view.labels) })),
      { policies: this.policies, identities, dnsRecords: records, nowMs },
    );
    const byEndpoint = new Map(resolved.map((policy) => [policy.endpointId, policy]));
    this.views = new Map(views.map((view) => [view.id, view]));
    this.byEndpoint = byEndpoint;
    this.sendChanges(byEndpoint);
    this.armDnsExpiry(nextDnsExpiry(fqdnSelectorsOf(this.policies), records, nowMs), nowMs);
  }

  /** Resolves once soon, however many changes arrive before then. */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.safely(() => this.resolve());
    });
  }

  /**
   * Re-resolves on every change under the KubeStore root (policies,
   * identities, namespaces, pods) and, in case an event is missed, whenever
   * the policy revision moved at the poll.
   */
  watch(kubeDir: string): void {
    this.watcher?.close();
    // Every directory of the store on its own (a policies directory made later
    // included): the store replaces files by rename, which Node's recursive
    // watch on Linux reports only the first time.
    this.watcher = watchKubeStore(kubeDir, () => this.schedule());
    this.pollTimer = setInterval(() => {
      this.safely(() => {
        if (this.options.readPolicies().revision !== this.revisionNumber) this.schedule();
      });
    }, this.options.pollMs ?? 1000);
    this.pollTimer.unref();
  }

  /** The resolved policy of a local endpoint. */
  policyOf(endpointId: number): EndpointPolicy | undefined {
    return this.byEndpoint.get(endpointId);
  }

  cidrIdentities(): Identity[] {
    return this.cidrs.identities();
  }

  status(): PolicyResolverStatus {
    const names = (refs: readonly PolicyRef[]) => refs.map(policyDisplayName);
    const endpoints = [...this.byEndpoint.values()].map((policy): EndpointPolicyStatus => {
      const view = this.views.get(policy.endpointId);
      return {
        id: policy.endpointId,
        namespace: view?.namespace ?? '',
        pod_name: view?.podName ?? '',
        identity: policy.identity,
        selected_by: names(policy.selectedBy),
        ingress: { enforced: policy.ingress.enforced, enforced_by: names(policy.ingress.enforcedBy), rules: policy.ingress.entries.length },
        egress: { enforced: policy.egress.enforced, enforced_by: names(policy.egress.enforcedBy), rules: policy.egress.entries.length },
      };
    });
    return {
      revision: this.revisionNumber,
      policies: this.policies.map((policy) => ({ ...policy.ref })),
      endpoints: endpoints.sort((a, b) => a.id - b.id),
      cidr_identities: this.cidrs.identities().length,
      ...(this.nextExpiryMs !== undefined ? { next_dns_expiry: new Date(this.nextExpiryMs).toISOString() } : {}),
      ...(this.readError ? { error: this.readError } : {}),
    };
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.pollTimer);
    clearTimeout(this.expiryTimer);
  }

  private readPolicies(): void {
    try {
      const { revision, policies } = this.options.readPolicies();
      this.policies = policies;
      this.revisionNumber = revision;
      this.readError = undefined;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.readError) this.log(`policies: keeping revision ${this.revisionNumber}: ${message}`);
      this.readError = message;
    }
  }

  private sendChanges(byEndpoint: ReadonlyMap<number, EndpointPolicy>): void {
    for (const endpointId of [...this.sent.keys()]) {
      if (byEndpoint.has(endpointId)) continue;
      if (this.callDatapath(() => this.options.datapath.removeEndpoint(endpointId))) this.sent.delete(endpointId);
    }
    for (const policy of byEndpoint.values()) {
      const keys = policyMapKeys(policy);
      const sent = this.sent.get(policy.endpointId) ?? {};
      for (const direction of ['ingress', 'egress'] as const) {
        const state: DirectionMapState = {
          enforced: policy[direction].enforced,
          needsLookup: directionNeedsLookup(policy[direction]),
          keys: keys.filter((key) => key.direction === direction),
        };
        const text = JSON.stringify(state);
        if (sent[direction] === text) continue;
        if (this.callDatapath(() => this.options.datapath.setEndpointPolicy(policy.endpointId, direction, state))) sent[direction] = text;
      }
      this.sent.set(policy.endpointId, sent);
    }
  }

  /** Tells the datapath how the CIDR identities differ from what it was last told successfully. */
  private sendCidrChanges(): void {
    const wanted = new Map(this.cidrs.identities().map((identity) => [identity.id, identity]));
    const added = [...wanted.values()].filter((identity) => !this.sentCidrs.has(identity.id));
    const removed = [...this.sentCidrs.values()].filter((identity) => !wanted.has(identity.id));
    if (added.length === 0 && removed.length === 0) return;
    if (this.callDatapath(() => this.options.datapath.updateCidrIdentities(added, removed))) this.sentCidrs = wanted;
  }

  private armDnsExpiry(expiryMs: number | undefined, nowMs: number): void {
    if (expiryMs === this.nextExpiryMs) return;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.nextExpiryMs = expiryMs;
    if (expiryMs === undefined) return;
    this.expiryTimer = setTimeout(() => {
      this.nextExpiryMs = undefined;
      this.safely(() => this.resolve());
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

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log(`policies: ${(err as Error).message}`);
    }
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
