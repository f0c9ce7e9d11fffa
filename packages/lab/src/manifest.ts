import { readFileSync } from 'node:fs';
import {
  loadAllYaml,
  type V1DaemonSet,
  type V1Deployment,
  type V1Pod,
  type V1PodSpec,
  type V1Service,
} from '@kubernetes/client-node';
import { z } from 'zod';

/**
 * Something the lab runs pods for: a Deployment (replicas pods), a DaemonSet
 * (one pod per node) or a bare Pod.
 */
export interface Workload {
  readonly kind: 'Deployment' | 'DaemonSet' | 'Pod';
  readonly namespace: string;
  readonly name: string;
  /** Pods wanted; for a DaemonSet the lab makes one per node instead. */
  readonly replicas: number;
  /** Labels every pod of this workload carries. */
  readonly podLabels: Readonly<Record<string, string>>;
  readonly podSpec: V1PodSpec;
  readonly object: V1Deployment | V1DaemonSet | V1Pod;
}

/** A policy object kept as read; the lab applies it to the KubeStore's policies, the agents enforce it. */
export interface PolicyObject {
  readonly apiVersion: string;
  readonly kind: 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy' | 'NetworkPolicy';
  /** No namespace for a CiliumClusterwideNetworkPolicy. */
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  readonly spec?: unknown;
  readonly file: string;
}

export interface LabManifests {
  readonly namespaces: string[];
  readonly workloads: Workload[];
  readonly services: V1Service[];
  readonly policies: PolicyObject[];
  /** Objects of kinds the lab does not run (ServiceAccount, ConfigMap, …), for a log line. */
  readonly ignored: { file: string; kind: string; name: string }[];
}

/** A manifest the lab cannot run: names the file, the object and the field. */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly objectRef: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}: ${objectRef}: ${field ? `${field}: ` : ''}${problem}`);
    this.name = 'ManifestError';
  }
}

const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a DNS label (lower-case letters, digits and -)');
const labels = z.record(z.string(), z.string());
const port = z.number().int().min(1).max(65535);

const labelSelector = z.looseObject({
  matchLabels: labels.optional(),
  matchExpressions: z
    .array(
      z.looseObject({
        key: z.string(),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

const affinityTerm = z.looseObject({
  labelSelector: labelSelector.optional(),
  namespaces: z.array(z.string()).optional(),
  topologyKey: z.literal('kubernetes.io/hostname', {
    error: 'the lab places pods per node only: expected topologyKey kubernetes.io/hostname',
  }),
});
const podAffinity = z.looseObject({
  requiredDuringSchedulingIgnoredDuringExecution: z.array(affinityTerm).optional(),
});

const probe = z.looseObject({
  exec: z.looseObject({ command: z.array(z.string()).min(1) }, { error: 'the lab runs exec probes only: expected exec.command' }),
  periodSeconds: z.number().int().positive().optional(),
  timeoutSeconds: z.number().int().positive().optional(),
  failureThreshold: z.number().int().positive().optional(),
  initialDelaySeconds: z.number().int().min(0).optional(),
});

const container = z.looseObject({
  name: dnsLabel,
  image: z.string().min(1),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.array(z.looseObject({ name: z.string().min(1), value: z.string().optional() })).optional(),
  ports: z
    .array(
      z.looseObject({
        containerPort: port,
        hostPort: port.optional(),
        protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
        name: z.string().optional(),
      }),
    )
    .optional(),
  readinessProbe: probe.optional(),
});

const podSpec = z.looseObject({
  containers: z.array(container).min(1),
  hostNetwork: z.boolean().optional(),
  nodeName: z.string().optional(),
  dnsPolicy: z.enum(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']).optional(),
  affinity: z.looseObject({ podAffinity: podAffinity.optional(), podAntiAffinity: podAffinity.optional() }).optional(),
});

const metadata = z.looseObject({
  name: dnsLabel,
  namespace: dnsLabel.optional(),
  labels: labels.optional(),
});

const podTemplate = z.looseObject({
  metadata: z.looseObject({ labels: labels.optional() }).optional(),
  spec: podSpec,
});

const schemas = {
  Namespace: z.looseObject({ metadata }),
  Deployment: z.looseObject({
    metadata,
    spec: z.looseObject({
      replicas: z.number().int().min(0).optional(),
      selector: labelSelector,
      template: podTemplate,
    }),
  }),
  DaemonSet: z.looseObject({
    metadata,
    spec: z.looseObject({ selector: labelSelector, template: podTemplate }),
  }),
  Pod: z.looseObject({ metadata, spec: podSpec }),
  Service: z.looseObject({
    metadata,
    spec: z.looseObject({
      type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).optional(),
      clusterIP: z.union([z.ipv4(), z.literal('None')]).optional(),
      selector: labels.optional(),
      ports: z
        .array(
          z.looseObject({
            name: z.string().optional(),
            port,
            targetPort: z.union([port, z.string()]).optional(),
            nodePort: z.number().int().min(30000).max(32767).optional(),
            protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
          }),
        )
        .optional(),
    }),
  }),
  CiliumNetworkPolicy: z.looseObject({ metadata }),
  CiliumClusterwideNetworkPolicy: z.looseObject({ metadata }),
  NetworkPolicy: z.looseObject({ metadata }),
} as const;

type SupportedKind = keyof typeof schemas;

function isSupportedKind(kind: string): kind is SupportedKind {
  return Object.hasOwn(schemas, kind);
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Splits a multi-document YAML text, keeping only documents with content. */
function yamlDocuments(text: string): { index: number; text: string }[] {
  const docs: { index: number; text: string }[] = [];
  const chunks = text.split(/^---[ \t]*(?:#.*)?$/m);
  chunks.forEach((chunk, i) => {
    const hasContent = chunk.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'));
    if (hasContent) docs.push({ index: i, text: chunk });
  });
  return docs;
}

interface RawObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
}

/** Parses one manifest file's text; `file` names it in errors. */
export function parseManifest(text: string, file: string): LabManifests {
  const out: LabManifests = { namespaces: [], workloads: [], services: [], policies: [], ignored: [] };
  for (const doc of yamlDocuments(text)) {
    const docRef = `document ${doc.index + 1}`;
    let objects: unknown[];
    try {
      objects = loadAllYaml(doc.text) as unknown[];
    } catch (err) {
      throw new ManifestError(file, docRef, '', `invalid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    for (const raw of objects) {
      if (raw === null || typeof raw !== 'object') {
        throw new ManifestError(file, docRef, '', 'expected a Kubernetes object (a mapping with apiVersion and kind)');
      }
      addObject(out, raw as RawObject, file, docRef);
    }
  }
  return out;
}

function addObject(out: LabManifests, raw: RawObject, file: string, docRef: string): void {
  const kind = typeof raw.kind === 'string' ? raw.kind : undefined;
  const rawName = typeof raw.metadata?.name === 'string' ? raw.metadata.name : undefined;
  if (!kind) throw new ManifestError(file, rawName ? `object ${rawName}` : docRef, 'kind', 'missing');
  if (typeof raw.apiVersion !== 'string') {
    throw new ManifestError(file, `${kind} ${rawName ?? `(${docRef})`}`, 'apiVersion', 'missing');
  }
  if (!isSupportedKind(kind)) {
    out.ignored.push({ file, kind, name: rawName ?? '' });
    return;
  }
  const clusterScoped = kind === 'Namespace' || kind === 'CiliumClusterwideNetworkPolicy';
  const namespace = clusterScoped ? undefined : typeof raw.metadata?.namespace === 'string' ? raw.metadata.namespace : 'default';
  const objectRef = `${kind} ${namespace ? `${namespace}/` : ''}${rawName ?? `(unnamed, ${docRef})`}`;
  const result = schemas[kind].safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ManifestError(file, objectRef, issue ? fieldPath(issue.path) : '', issue?.message ?? 'invalid');
  }
  const name = rawName as string;
  if (namespace) (raw.metadata as { namespace?: string }).namespace = namespace;

  switch (kind) {
    case 'Namespace':
      out.namespaces.push(name);
      return;
    case 'Service':
      out.services.push(raw as V1Service);
      return;
    case 'CiliumNetworkPolicy':
    case 'CiliumClusterwideNetworkPolicy':
    case 'NetworkPolicy':
      out.policies.push({ ...(raw as Omit<PolicyObject, 'file' | 'kind'>), kind, file });
      return;
    case 'Pod': {
      const pod = raw as V1Pod;
      out.workloads.push({
        kind,
        namespace: namespace as string,
        name,
        replicas: 1,
        podLabels: pod.metadata?.labels ?? {},
        podSpec: pod.spec as V1PodSpec,
        object: pod,
      });
      return;
    }
    case 'Deployment':
    case 'DaemonSet': {
      const object = raw as V1Deployment | V1DaemonSet;
      const spec = object.spec as NonNullable<V1Deployment['spec']>;
      const podLabels = spec.template.metadata?.labels ?? {};
      checkSelectorMatchesTemplate(spec.selector.matchLabels ?? {}, podLabels, file, objectRef);
      out.workloads.push({
        kind,
        namespace: namespace as string,
        name,
        replicas: kind === 'Deployment' ? (spec.replicas ?? 1) : 1,
        podLabels,
        podSpec: spec.template.spec as V1PodSpec,
        object,
      });
      return;
    }
  }
}

function checkSelectorMatchesTemplate(
  matchLabels: Record<string, string>,
  podLabels: Record<string, string>,
  file: string,
  objectRef: string,
): void {
  for (const [key, value] of Object.entries(matchLabels)) {
    if (podLabels[key] !== value) {
      throw new ManifestError(
        file,
        objectRef,
        'spec.selector.matchLabels',
        `selects ${key}=${value} but spec.template.metadata.labels has ${key}=${podLabels[key] ?? '(unset)'}`,
      );
    }
  }
}

/** Reads and merges manifest files; the same object twice is an error. */
export function loadManifests(files: readonly string[]): LabManifests {
  const merged: LabManifests = { namespaces: [], workloads: [], services: [], policies: [], ignored: [] };
  const seen = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`lab: cannot read manifest ${file}: ${(err as Error).message}`);
    }
    const parsed = parseManifest(text, file);
    const refs: [string, string][] = [
      ...parsed.workloads.map((w): [string, string] => [`${w.kind === 'Pod' ? 'Pod' : 'Workload'} ${w.namespace}/${w.name}`, `${w.kind} ${w.namespace}/${w.name}`]),
      ...parsed.services.map((s): [string, string] => [`Service ${s.metadata?.namespace}/${s.metadata?.name}`, `Service ${s.metadata?.namespace}/${s.metadata?.name}`]),
    ];
    for (const [key, ref] of refs) {
      const earlier = seen.get(key);
      if (earlier) throw new ManifestError(file, ref, 'metadata.name', `already defined in ${earlier}`);
      seen.set(key, file);
    }
    merged.namespaces.push(...parsed.namespaces.filter((n) => !merged.namespaces.includes(n)));
    merged.workloads.push(...parsed.workloads);
    merged.services.push(...parsed.services);
    merged.policies.push(...parsed.policies);
    merged.ignored.push(...parsed.ignored);
  }
  return merged;
}
