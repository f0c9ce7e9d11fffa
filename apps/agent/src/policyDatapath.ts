import type { Direction, Identity, PolicyMapKey } from '@tycho/policy';

/** What one endpoint's policy map must hold in one direction. */
export interface DirectionMapState {
  /** Default deny: a packet whose lookup finds no key is dropped (POLICY_DENIED). */
  readonly enforced: boolean;
  /** Whether the datapath must look at the map at all in this direction (`directionNeedsLookup`). */
  readonly needsLookup: boolean;
  /** This direction's keys from `policyMapKeys` (each with deny and the policies that produced it). */
  readonly keys: readonly PolicyMapKey[];
}

/** A pod or node address for the ipcache (/32), from the agent's IpCache. */
export interface HostAddress {
  readonly address: string;
  readonly identity: number;
  /** A pod of this node, or this node itself. */
  readonly local: boolean;
}

/**
 * The seam between the agent's policy resolution and the datapath
 * (docs/contracts.md, "Policy datapath seam"). The agent calls it whenever a
 * resolved result changes, and only then; an implementation writes BPF maps.
 * Calls are synchronous and must not throw for a valid argument; the agent
 * logs a throw and tries again on the next change.
 */
export interface PolicyDatapath {
  /** Replaces the endpoint's policy in one direction. */
  setEndpointPolicy(endpointId: number, direction: Direction, state: DirectionMapState): void;
  /**
   * Optional: the same write in bounded steps (a generator), so that the
   * agent can serve other work between them while a large policy is written.
   * Other calls may come between two steps.
   */
  setEndpointPolicySteps?(endpointId: number, direction: Direction, state: DirectionMapState): Generator<void>;
  /** The endpoint went away: drop its policy state. */
  removeEndpoint(endpointId: number): void;
  /** Node-local CIDR identities (from policies' CIDRs and toFQDNs answers) for the ipcache LPM map. */
  updateCidrIdentities(added: readonly Identity[], removed: readonly Identity[]): void;
  /** Optional: updateCidrIdentities in bounded steps. */
  updateCidrIdentitiesSteps?(added: readonly Identity[], removed: readonly Identity[]): Generator<void>;
  /** Every IPv4 pod and node address the agent knows, replacing the previous set (the ipcache's /32 entries). */
  updateHostAddresses(addresses: readonly HostAddress[]): void;
}

export type PolicyDatapathCall =
  | { op: 'setEndpointPolicy'; endpointId: number; direction: Direction; state: DirectionMapState }
  | { op: 'removeEndpoint'; endpointId: number }
  | { op: 'updateCidrIdentities'; added: readonly Identity[]; removed: readonly Identity[] };

/**
 * The implementation for tests and for agents without a datapath (the real
 * agent uses createBpfPolicyDatapath): it keeps the current state per
 * endpoint, the calls made (host addresses apart: they follow every pod
 * change, and are kept as the last set given), which tests read.
 */
export function createRecordingPolicyDatapath() {
  const calls: PolicyDatapathCall[] = [];
  const endpoints = new Map<number, Partial<Record<Direction, DirectionMapState>>>();
  const cidrIdentities = new Map<number, Identity>();
  let hostAddresses: readonly HostAddress[] = [];
  const datapath: PolicyDatapath = {
    setEndpointPolicy(endpointId, direction, state) {
      calls.push({ op: 'setEndpointPolicy', endpointId, direction, state });
      endpoints.set(endpointId, { ...endpoints.get(endpointId), [direction]: state });
    },
    removeEndpoint(endpointId) {
      calls.push({ op: 'removeEndpoint', endpointId });
      endpoints.delete(endpointId);
    },
    updateCidrIdentities(added, removed) {
      calls.push({ op: 'updateCidrIdentities', added, removed });
      for (const identity of removed) cidrIdentities.delete(identity.id);
      for (const identity of added) cidrIdentities.set(identity.id, identity);
    },
    updateHostAddresses(addresses) {
      hostAddresses = addresses;
    },
  };
  return {
    datapath,
    calls,
    endpoints,
    cidrIdentities,
    hostAddresses: () => hostAddresses,
  } as const;
}

export type RecordingPolicyDatapath = ReturnType<typeof createRecordingPolicyDatapath>;
