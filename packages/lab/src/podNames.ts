import { createHash, randomInt } from 'node:crypto';

/** Characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Longest pod netns name the lab uses before shortening it with a hash. */
const MAX_NETNS_NAME = 64;

export type RandomInt = (maxExclusive: number) => number;

/** A 5-character random suffix as Kubernetes appends to generated pod names. */
export function nameSuffix(random: RandomInt = randomInt): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += SUFFIX_ALPHABET[random(SUFFIX_ALPHABET.length)];
  return out;
}

/** The pod-template-hash of a Deployment's template: 10 hex digits of its content hash. */
export function podTemplateHash(template: unknown): string {
  return createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10);
}

/** The ReplicaSet a Deployment makes for its current template: `<deploy>-<hash>`. */
export function replicaSetName(deployment: string, templateHash: string): string {
  return `${deployment}-${templateHash}`;
}

/** Network namespace of a pod: `tycho-pod-<ns>-<name>`, shortened with a hash when long. */
export function podNetnsName(namespace: string, podName: string): string {
  const full = `tycho-pod-${namespace}-${podName}`;
  if (full.length <= MAX_NETNS_NAME) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_NETNS_NAME - 9)}-${hash}`;
}
