import { ANY_SOURCE, type Label, parseSelectorKey } from './labels.ts';

/**
 * Cilium's EndpointSelector: a Kubernetes label selector whose keys carry a
 * label source. All requirements must hold; no requirements selects every
 * identity (Cilium's wildcard selector).
 */

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface SelectorRequirement {
  /** `k8s`, `reserved`, … or `any` (every source). */
  readonly source: string;
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

export interface EndpointSelector {
  readonly requirements: readonly SelectorRequirement[];
}

/** A Kubernetes LabelSelector as written in a manifest (already shape-checked). */
export interface K8sLabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | undefined;
  readonly matchExpressions?: readonly { key: string; operator: SelectorOperator; values?: readonly string[] | undefined }[] | undefined;
}

/** Builds a selector; `mapKey` rewrites each key before it is split into source and key. */
export function selectorFromK8s(selector: K8sLabelSelector, mapKey: (key: string) => string = (key) => key): EndpointSelector {
  const requirements: SelectorRequirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    requirements.push({ ...parseSelectorKey(mapKey(key)), operator: 'In', values: [value] });
  }
  for (const expression of selector.matchExpressions ?? []) {
    requirements.push({ ...parseSelectorKey(mapKey(expression.key)), operator: expression.operator, values: [...(expression.values ?? [])] });
  }
  return { requirements };
}

export function withRequirement(selector: EndpointSelector, requirement: SelectorRequirement): EndpointSelector {
  return { requirements: [...selector.requirements, requirement] };
}

/** True when no requirement is left: the selector selects every identity, reserved ones included. */
export function isWildcardSelector(selector: EndpointSelector): boolean {
  return selector.requirements.length === 0;
}

/** Whether some requirement names `key` from `source` or from any source (Cilium's HasKey for `k8s:` and `any:`). */
export function selectorHasKey(selector: EndpointSelector, key: string, source = 'k8s'): boolean {
  return selector.requirements.some((r) => r.key === key && (r.source === source || r.source === ANY_SOURCE));
}

export function selectorHasKeyPrefix(selector: EndpointSelector, prefix: string, source?: string): boolean {
  return selector.requirements.some((r) => r.key.startsWith(prefix) && (source === undefined || r.source === source || r.source === ANY_SOURCE));
}

export function selectorHasSource(selector: EndpointSelector, source: string): boolean {
  return selector.requirements.some((r) => r.source === source);
}

function valuesOf(requirement: SelectorRequirement, labels: readonly Label[]): string[] {
  const out: string[] = [];
  for (const label of labels) {
    if (label.key === requirement.key && (requirement.source === ANY_SOURCE || label.source === requirement.source)) out.push(label.value);
  }
  return out;
}

function requirementHolds(requirement: SelectorRequirement, labels: readonly Label[]): boolean {
  const values = valuesOf(requirement, labels);
  switch (requirement.operator) {
    case 'Exists':
      return values.length > 0;
    case 'DoesNotExist':
      return values.length === 0;
    case 'In':
      return values.some((v) => requirement.values.includes(v));
    case 'NotIn':
      // Kubernetes semantics: an absent key satisfies NotIn.
      return !values.some((v) => requirement.values.includes(v));
  }
}

export function selectorMatches(selector: EndpointSelector, labels: readonly Label[]): boolean {
  return selector.requirements.every((requirement) => requirementHolds(requirement, labels));
}

/** `k8s:app=echo-a, any:tier in (a,b)`: for error messages and the API. */
export function describeSelector(selector: EndpointSelector): string {
  if (selector.requirements.length === 0) return '(all)';
  return selector.requirements
    .map((r) => {
      const key = `${r.source}:${r.key}`;
      switch (r.operator) {
        case 'Exists':
          return key;
        case 'DoesNotExist':
          return `!${key}`;
        case 'In':
          return r.values.length === 1 ? `${key}=${r.values[0]}` : `${key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${key} notin (${r.values.join(',')})`;
      }
    })
    .join(', ');
}
