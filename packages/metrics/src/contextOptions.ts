import type { Endpoint, Flow } from '@tycho/flow';
import { optionValue } from './metricOptions.ts';

/**
 * Hubble's context options: `sourceContext` / `destinationContext` add a
 * `source` / `destination` label whose value is the first non-empty of the
 * listed identifiers (`pod|ip`); `labelsContext` adds the listed labels.
 */
export const CONTEXT_IDENTIFIERS = [
  'identity',
  'namespace',
  'pod',
  'pod-short',
  'pod-name',
  'dns',
  'ip',
  'reserved-identity',
  'workload-name',
  'app',
] as const;
export type ContextIdentifier = (typeof CONTEXT_IDENTIFIERS)[number];

/** In Hubble's order, which is also the order the labels appear in. */
export const CONTEXT_LABELS = [
  'source_ip',
  'source_pod',
  'source_namespace',
  'source_workload',
  'source_app',
  'destination_ip',
  'destination_pod',
  'destination_namespace',
  'destination_workload',
  'destination_app',
  'traffic_direction',
] as const;
export type ContextLabel = (typeof CONTEXT_LABELS)[number];

export interface ContextOptions {
  source: readonly ContextIdentifier[];
  destination: readonly ContextIdentifier[];
  labels: readonly ContextLabel[];
}

function parseContext(text: string): ContextIdentifier[] {
  return text.split('|').map((part) => {
    const id = part.toLowerCase();
    if (!(CONTEXT_IDENTIFIERS as readonly string[]).includes(id)) throw new Error(`unknown context '${part}'`);
    return id as ContextIdentifier;
  });
}

function parseLabels(text: string): ContextLabel[] {
  const wanted = new Set(text.split(','));
  for (const label of wanted) {
    if (!(CONTEXT_LABELS as readonly string[]).includes(label)) throw new Error(`invalid labelsContext value: ${label}`);
  }
  return CONTEXT_LABELS.filter((label) => wanted.has(label));
}

/** Throws Hubble's messages: `unknown context 'x'`, `invalid labelsContext value: x`. */
export function parseContextOptions(options: ReadonlyMap<string, string>): ContextOptions {
  const source = optionValue(options, 'sourceContext');
  const destination = optionValue(options, 'destinationContext');
  const labels = optionValue(options, 'labelsContext');
  return {
    source: source === undefined ? [] : parseContext(source),
    destination: destination === undefined ? [] : parseContext(destination),
    labels: labels === undefined ? [] : parseLabels(labels),
  };
}

/** The label names the options add, in the order `contextLabelValues` returns values. */
export function contextLabelNames(context: ContextOptions): string[] {
  const names: string[] = [...context.labels];
  if (context.source.length > 0) names.push('source');
  if (context.destination.length > 0) names.push('destination');
  return names;
}

/**
 * A Deployment pod's name without its ReplicaSet and pod hashes
 * (`echo-a-6d8f9c7b5-x2x7k` → `echo-a`): Hubble drops one or two trailing
 * `-[a-z0-9]+` parts, keeping at least one character.
 */
const SHORT_POD_PATTERN = /^(.+?)(-[a-z0-9]+){1,2}$/;
export function shortPodName(name: string): string {
  return name.replace(SHORT_POD_PATTERN, '$1');
}

const APP_LABEL_PREFIXES = ['k8s:app.kubernetes.io/name=', 'k8s:k8s-app=', 'k8s:app='];
/** The pod's app label value (`app.kubernetes.io/name`, `k8s-app` or `app`), or ''. */
export function appFromLabels(labels: readonly string[] | undefined): string {
  for (const label of labels ?? []) {
    for (const prefix of APP_LABEL_PREFIXES) {
      if (label.startsWith(prefix) && label.length > prefix.length) return label.slice(prefix.length);
    }
  }
  return '';
}

const KUBE_APISERVER_LABEL = 'reserved:kube-apiserver';
function reservedIdentityLabel(labels: readonly string[] | undefined): string {
  if (!labels) return '';
  if (labels.includes(KUBE_APISERVER_LABEL)) return KUBE_APISERVER_LABEL;
  return labels.find((label) => label.startsWith('reserved:')) ?? '';
}

function withNamespace(endpoint: Endpoint | undefined, name: string): string {
  return endpoint?.namespace ? `${endpoint.namespace}/${name}` : name;
}

function identifierValue(id: ContextIdentifier, flow: Flow, isSource: boolean): string {
  const endpoint = isSource ? flow.source : flow.destination;
  switch (id) {
    case 'namespace':
      return endpoint?.namespace ?? '';
    case 'identity':
      return endpoint?.labels?.join(',') ?? '';
    case 'pod':
      return withNamespace(endpoint, endpoint?.pod_name ?? '');
    case 'pod-short':
      return withNamespace(endpoint, shortPodName(endpoint?.pod_name ?? ''));
    case 'pod-name':
      return endpoint?.pod_name ?? '';
    case 'dns':
      return (isSource ? flow.source_names : flow.destination_names)?.join(',') ?? '';
    case 'ip':
      return (isSource ? flow.IP?.source : flow.IP?.destination) ?? '';
    case 'reserved-identity':
      return reservedIdentityLabel(endpoint?.labels);
    case 'workload-name':
      return endpoint?.workloads?.[0]?.name ?? '';
    case 'app':
      return appFromLabels(endpoint?.labels);
  }
}

function firstNonEmpty(ids: readonly ContextIdentifier[], flow: Flow, isSource: boolean): string {
  for (const id of ids) {
    const value = identifierValue(id, flow, isSource);
    if (value !== '') return value;
  }
  return '';
}

function labelValue(label: ContextLabel, flow: Flow): string {
  switch (label) {
    case 'source_ip':
      return flow.IP?.source ?? '';
    case 'source_pod':
      return flow.source?.pod_name ?? '';
    case 'source_namespace':
      return flow.source?.namespace ?? '';
    case 'source_workload':
      return flow.source?.workloads?.[0]?.name ?? '';
    case 'source_app':
      return appFromLabels(flow.source?.labels);
    case 'destination_ip':
      return flow.IP?.destination ?? '';
    case 'destination_pod':
      return flow.destination?.pod_name ?? '';
    case 'destination_namespace':
      return flow.destination?.namespace ?? '';
    case 'destination_workload':
      return flow.destination?.workloads?.[0]?.name ?? '';
    case 'destination_app':
      return appFromLabels(flow.destination?.labels);
    case 'traffic_direction':
      return flow.traffic_direction === 'INGRESS' ? 'ingress' : flow.traffic_direction === 'EGRESS' ? 'egress' : 'unknown';
  }
}

/** The values of `contextLabelNames(context)` for one flow. */
export function contextLabelValues(context: ContextOptions, flow: Flow): string[] {
  const values = context.labels.map((label) => labelValue(label, flow));
  if (context.source.length > 0) values.push(firstNonEmpty(context.source, flow, true));
  if (context.destination.length > 0) values.push(firstNonEmpty(context.destination, flow, false));
  return values;
}
