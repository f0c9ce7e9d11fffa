// Which resources the server serves: the built-in ones the lab needs, and those that
// CustomResourceDefinitions add while they exist. Discovery documents, URL routing and validation
// all read from here, the way kube-apiserver's REST storage map and its discovery handlers do.
import { apiVersionOf, isJsonObject, type KubeObject } from './kubeObject.ts';

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ResourceDefinition {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  verbs: string[];
  subresources: { status: boolean; scale?: ScaleSubresource };
  /** Set for resources a CRD serves: its additionalPrinterColumns, and the CRD's name. */
  printerColumns?: PrinterColumn[];
  definedBy?: string;
}

/** Where objects of a resource are stored, whatever version a request names: `apps/deployments`. */
export function storageKeyOf(resource: Pick<ResourceDefinition, 'group' | 'plural'>): string {
  return `${resource.group}/${resource.plural}`;
}

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const replicasScale: ScaleSubresource = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
  labelSelectorPath: '.spec.selector',
};

function builtIn(
  groupVersion: string,
  kind: string,
  plural: string,
  options: { namespaced?: boolean; shortNames?: string[]; status?: boolean; scale?: boolean; categories?: string[] } = {},
): ResourceDefinition {
  const [group, version] = groupVersion.includes('/') ? (groupVersion.split('/') as [string, string]) : ['', groupVersion];
  const definition: ResourceDefinition = {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    shortNames: options.shortNames ?? [],
    categories: options.categories ?? [],
    namespaced: options.namespaced ?? true,
    verbs: allVerbs,
    subresources: { status: options.status ?? false },
  };
  if (options.scale) definition.subresources.scale = replicasScale;
  return definition;
}

const builtInResources: readonly ResourceDefinition[] = [
  builtIn('v1', 'Namespace', 'namespaces', { namespaced: false, shortNames: ['ns'], status: true }),
  builtIn('v1', 'Node', 'nodes', { namespaced: false, shortNames: ['no'], status: true }),
  builtIn('v1', 'Pod', 'pods', { shortNames: ['po'], status: true, categories: ['all'] }),
  builtIn('v1', 'Service', 'services', { shortNames: ['svc'], status: true, categories: ['all'] }),
  builtIn('v1', 'Endpoints', 'endpoints', { shortNames: ['ep'] }),
  builtIn('v1', 'ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  builtIn('v1', 'Secret', 'secrets'),
  builtIn('v1', 'ServiceAccount', 'serviceaccounts', { shortNames: ['sa'] }),
  builtIn('v1', 'Event', 'events', { shortNames: ['ev'] }),
  builtIn('apps/v1', 'Deployment', 'deployments', { shortNames: ['deploy'], status: true, scale: true, categories: ['all'] }),
  builtIn('apps/v1', 'ReplicaSet', 'replicasets', { shortNames: ['rs'], status: true, scale: true, categories: ['all'] }),
  builtIn('apps/v1', 'DaemonSet', 'daemonsets', { shortNames: ['ds'], status: true, categories: ['all'] }),
  builtIn('apps/v1', 'StatefulSet', 'statefulsets', { shortNames: ['sts'], status: true, scale: true, categories: ['all'] }),
  builtIn('discovery.k8s.io/v1', 'EndpointSlice', 'endpointslices'),
  builtIn('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', { shortNames: ['netpol'] }),
  builtIn('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', {
    namespaced: false,
    shortNames: ['crd', 'crds'],
    status: true,
  }),
  builtIn('coordination.k8s.io/v1', 'Lease', 'leases'),
  builtIn('rbac.authorization.k8s.io/v1', 'Role', 'roles'),
  builtIn('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings'),
  builtIn('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', { namespaced: false }),
  builtIn('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
];

/** Groups in the order discovery lists them: the preferred order kubectl resolves short names in. */
const builtInGroupOrder = ['', 'apps', 'discovery.k8s.io', 'networking.k8s.io', 'apiextensions.k8s.io', 'coordination.k8s.io', 'rbac.authorization.k8s.io'];

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function jsonPathOf(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.length > 0 ? value : fallback;
}

/** The resources a CustomResourceDefinition serves, one per served version. The CRD was validated on write. */
export function resourcesOfCustomResourceDefinition(crd: KubeObject): ResourceDefinition[] {
  const spec = isJsonObject(crd.spec) ? crd.spec : {};
  const names = isJsonObject(spec.names) ? spec.names : {};
  const group = typeof spec.group === 'string' ? spec.group : '';
  const kind = typeof names.kind === 'string' ? names.kind : '';
  const plural = typeof names.plural === 'string' ? names.plural : '';
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isJsonObject) : [];
  return versions
    .filter((version) => version.served !== false && typeof version.name === 'string')
    .map((version) => {
      const subresources = isJsonObject(version.subresources) ? version.subresources : {};
      const definition: ResourceDefinition = {
        group,
        version: version.name as string,
        kind,
        listKind: typeof names.listKind === 'string' ? names.listKind : `${kind}List`,
        plural,
        singular: typeof names.singular === 'string' && names.singular ? names.singular : kind.toLowerCase(),
        shortNames: stringArray(names.shortNames),
        categories: stringArray(names.categories),
        namespaced: spec.scope !== 'Cluster',
        verbs: allVerbs,
        subresources: { status: isJsonObject(subresources.status) },
        printerColumns: (Array.isArray(version.additionalPrinterColumns) ? version.additionalPrinterColumns : [])
          .filter(isJsonObject)
          .map((column) => {
            const printerColumn: PrinterColumn = {
              name: String(column.name ?? ''),
              type: String(column.type ?? 'string'),
              jsonPath: jsonPathOf(column.jsonPath, '.metadata.name'),
            };
            if (typeof column.description === 'string') printerColumn.description = column.description;
            if (typeof column.priority === 'number') printerColumn.priority = column.priority;
            if (typeof column.format === 'string') printerColumn.format = column.format;
            return printerColumn;
          }),
        definedBy: crd.metadata.name ?? '',
      };
      if (isJsonObject(subresources.scale)) {
        const scale = subresources.scale;
        definition.subresources.scale = {
          specReplicasPath: jsonPathOf(scale.specReplicasPath, '.spec.replicas'),
          statusReplicasPath: jsonPathOf(scale.statusReplicasPath, '.status.replicas'),
        };
        if (typeof scale.labelSelectorPath === 'string') definition.subresources.scale.labelSelectorPath = scale.labelSelectorPath;
      }
      return definition;
    });
}

export interface GroupVersion {
  group: string;
  version: string;
}

export function createResourceRegistry() {
  const custom = new Map<string, ResourceDefinition[]>();

  function all(): ResourceDefinition[] {
    return [...builtInResources, ...[...custom.values()].flat()];
  }

  function find(group: string, version: string, plural: string): ResourceDefinition | undefined {
    return all().find((resource) => resource.group === group && resource.version === version && resource.plural === plural);
  }

  function findByKind(apiVersion: string, kind: string): ResourceDefinition | undefined {
    return all().find((resource) => apiVersionOf(resource.group, resource.version) === apiVersion && resource.kind === kind);
  }

  /** Every group with its versions, built-in groups first, as `/apis` lists them. */
  function groups(): { name: string; versions: string[] }[] {
    const byGroup = new Map<string, string[]>();
    for (const resource of all()) {
      const versions = byGroup.get(resource.group) ?? [];
      if (!versions.includes(resource.version)) versions.push(resource.version);
      byGroup.set(resource.group, versions);
    }
    const rank = (group: string) => {
      const index = builtInGroupOrder.indexOf(group);
      return index === -1 ? builtInGroupOrder.length : index;
    };
    return [...byGroup.entries()]
      .map(([name, versions]) => ({ name, versions }))
      .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
  }

  function resourcesIn(groupVersion: GroupVersion): ResourceDefinition[] {
    return all().filter((resource) => resource.group === groupVersion.group && resource.version === groupVersion.version);
  }

  /** Serves (or stops serving) what a CRD defines; called on every write of a CRD object. */
  function defineCustomResources(crd: KubeObject): void {
    const name = crd.metadata.name ?? '';
    const resources = resourcesOfCustomResourceDefinition(crd);
    if (resources.length === 0) custom.delete(name);
    else custom.set(name, resources);
  }

  function forgetCustomResources(crdName: string): void {
    custom.delete(crdName);
  }

  return { all, find, findByKind, groups, resourcesIn, defineCustomResources, forgetCustomResources } as const;
}

export type ResourceRegistry = ReturnType<typeof createResourceRegistry>;
