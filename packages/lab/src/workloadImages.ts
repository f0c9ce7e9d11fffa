/**
 * The lab has no container images. It runs a built-in workload chosen by the
 * image name, standing in for what that image does in the connectivity-check.
 */
export type WorkloadKind = 'echo' | 'prober' | 'dns';

const BY_IMAGE: readonly { pattern: RegExp; kind: WorkloadKind; what: string }[] = [
  { pattern: /(^|\/)json-mock(:|@|$)/, kind: 'echo', what: 'HTTP echo server (cilium/json-mock)' },
  { pattern: /(^|\/)alpine-curl(:|@|$)/, kind: 'prober', what: 'idle client whose curl probes the lab runs (alpine-curl)' },
  { pattern: /(^|\/)coredns(:|@|$)/, kind: 'dns', what: 'cluster DNS (coredns)' },
];

export function workloadForImage(image: string): WorkloadKind {
  const match = BY_IMAGE.find((entry) => entry.pattern.test(image));
  if (!match) {
    const known = BY_IMAGE.map((entry) => `${entry.pattern.source} → ${entry.what}`).join('; ');
    throw new Error(`lab: no built-in workload for image '${image}' (the lab runs: ${known})`);
  }
  return match.kind;
}
