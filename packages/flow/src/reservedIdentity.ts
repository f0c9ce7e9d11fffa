/**
 * Security identities Cilium reserves for peers that are not workloads.
 * Workload identities (one per distinct label set) start at 256.
 */
export const ReservedIdentity = {
  host: 1,
  world: 2,
  unmanaged: 3,
  health: 4,
  init: 5,
  'remote-node': 6,
  'kube-apiserver': 7,
  ingress: 8,
} as const;

export type ReservedIdentityName = keyof typeof ReservedIdentity;

export const MIN_WORKLOAD_IDENTITY = 256;

const NAME_BY_IDENTITY = new Map<number, ReservedIdentityName>(
  (Object.entries(ReservedIdentity) as [ReservedIdentityName, number][]).map(([name, id]) => [id, name]),
);

/** The reserved name of an identity (`world` for 2), or undefined for a workload identity. */
export function reservedIdentityName(identity: number): ReservedIdentityName | undefined {
  return NAME_BY_IDENTITY.get(identity);
}

/** The labels Cilium gives a reserved identity: `["reserved:world"]`. */
export function reservedIdentityLabels(name: ReservedIdentityName): string[] {
  return [`reserved:${name}`];
}
