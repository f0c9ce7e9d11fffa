// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for (`Accept: application/json;as=Table;…`)
// so that `kubectl get` prints Kubernetes' own columns. Columns and cells follow kube-apiserver's
// printers (pkg/printers/internalversion) for the kinds the lab serves, a CRD's
// additionalPrinterColumns for custom resources, and NAME / AGE for anything else.
import { fieldAt, isJsonObject, type JsonObject, type KubeObject } from './kubeObject.ts';
import type { PrinterColumn, ResourceDefinition } from './resourceRegistry.ts';
import { labelSelectorText } from './selectors.ts';

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumn[];
  rows: TableRow[];
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration, which kubectl's AGE column shows. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

interface Printer {
  columns: TableColumn[];
  cells(object: KubeObject, now: Date): unknown[];
}

function column(name: string, type = 'string', priority = 0, format = ''): TableColumn {
  return { name, type, format, description: '', priority };
}

const nameColumn = column('Name', 'string', 0, 'name');
const ageColumn = column('Age');

function age(object: KubeObject, now: Date): string {
  const created = object.metadata.creationTimestamp;
  return created ? humanDuration(now.getTime() - Date.parse(created)) : '<unknown>';
}

function objectAt(object: unknown, ...path: string[]): JsonObject {
  const value = fieldAt(object, path);
  return isJsonObject(value) ? value : {};
}

function arrayAt(object: unknown, ...path: string[]): JsonObject[] {
  const value = fieldAt(object, path);
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
}

function numberAt(object: unknown, ...path: string[]): number {
  const value = fieldAt(object, path);
  return typeof value === 'number' ? value : 0;
}

function textAt(object: unknown, fallback: string, ...path: string[]): string {
  const value = fieldAt(object, path);
  return typeof value === 'string' && value !== '' ? value : fallback;
}

function containers(podSpec: unknown): { names: string; images: string } {
  const list = arrayAt(podSpec, 'containers');
  return { names: list.map((container) => String(container.name ?? '')).join(','), images: list.map((container) => String(container.image ?? '')).join(',') };
}

function selectorCell(selector: unknown): string {
  const text = labelSelectorText(selector);
  return text === '' ? '<none>' : text;
}

/** The pod's STATUS as kubectl shows it: a container's waiting/terminated reason over the phase, Terminating once deleted. */
function podStatus(pod: KubeObject): string {
  let reason = textAt(pod, textAt(pod, 'Unknown', 'status', 'phase'), 'status', 'reason');
  const statuses = arrayAt(pod, 'status', 'containerStatuses');
  for (const status of statuses) {
    const waiting = objectAt(status, 'state', 'waiting');
    const terminated = objectAt(status, 'state', 'terminated');
    if (typeof waiting.reason === 'string' && waiting.reason !== '') reason = waiting.reason;
    else if (typeof terminated.reason === 'string' && terminated.reason !== '') reason = terminated.reason;
  }
  if (pod.metadata.deletionTimestamp) return reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function servicePorts(service: KubeObject): string {
  const ports = arrayAt(service, 'spec', 'ports').map((port) => {
    const nodePort = typeof port.nodePort === 'number' ? `:${port.nodePort}` : '';
    return `${String(port.port ?? '')}${nodePort}/${String(port.protocol ?? 'TCP')}`;
  });
  return ports.length === 0 ? '<none>' : ports.join(',');
}

function externalIps(service: KubeObject): string {
  const type = textAt(service, 'ClusterIP', 'spec', 'type');
  const external = (fieldAt(service, ['spec', 'externalIPs']) as unknown[] | undefined)?.map(String) ?? [];
  if (type === 'ExternalName') return textAt(service, '<none>', 'spec', 'externalName');
  if (type === 'LoadBalancer') {
    const ingress = arrayAt(service, 'status', 'loadBalancer', 'ingress').map((entry) => String(entry.ip ?? entry.hostname ?? ''));
    const all = [...ingress, ...external];
    return all.length > 0 ? all.join(',') : '<pending>';
  }
  return external.length > 0 ? external.join(',') : '<none>';
}

function listText(values: string[], more: number): string {
  if (values.length === 0) return '<none>';
  return more > 0 ? `${values.join(',')} + ${more} more...` : values.join(',');
}

function nodeAddress(node: KubeObject, type: string): string {
  return arrayAt(node, 'status', 'addresses').find((address) => address.type === type)?.address?.toString() ?? '<none>';
}

function nodeStatus(node: KubeObject): string {
  const ready = arrayAt(node, 'status', 'conditions').find((condition) => condition.type === 'Ready');
  const status = ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown';
  return fieldAt(node, ['spec', 'unschedulable']) === true ? `${status},SchedulingDisabled` : status;
}

function nodeRoles(node: KubeObject): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((label) => label.startsWith('node-role.kubernetes.io/'))
    .map((label) => label.slice('node-role.kubernetes.io/'.length))
    .filter((role) => role !== '');
  return roles.length > 0 ? roles.sort().join(',') : '<none>';
}

const builtInPrinters: Record<string, Printer> = {
  '/pods': {
    columns: [nameColumn, column('Ready'), column('Status'), column('Restarts', 'string'), ageColumn, column('IP', 'string', 1), column('Node', 'string', 1), column('Nominated Node', 'string', 1), column('Readiness Gates', 'string', 1)],
    cells: (pod, now) => {
      const statuses = arrayAt(pod, 'status', 'containerStatuses');
      const total = arrayAt(pod, 'spec', 'containers').length;
      const ready = statuses.filter((status) => status.ready === true).length;
      const restarts = statuses.reduce((sum, status) => sum + (typeof status.restartCount === 'number' ? status.restartCount : 0), 0);
      const gates = arrayAt(pod, 'spec', 'readinessGates');
      return [
        pod.metadata.name,
        `${ready}/${total}`,
        podStatus(pod),
        String(restarts),
        age(pod, now),
        textAt(pod, '<none>', 'status', 'podIP'),
        textAt(pod, '<none>', 'spec', 'nodeName'),
        textAt(pod, '<none>', 'status', 'nominatedNodeName'),
        gates.length === 0 ? '<none>' : `0/${gates.length}`,
      ];
    },
  },
  'apps/deployments': {
    columns: [nameColumn, column('Ready'), column('Up-to-date', 'integer'), column('Available', 'integer'), ageColumn, column('Containers', 'string', 1), column('Images', 'string', 1), column('Selector', 'string', 1)],
    cells: (deployment, now) => {
      const template = containers(fieldAt(deployment, ['spec', 'template', 'spec']));
      return [
        deployment.metadata.name,
        `${numberAt(deployment, 'status', 'readyReplicas')}/${numberAt(deployment, 'spec', 'replicas')}`,
        numberAt(deployment, 'status', 'updatedReplicas'),
        numberAt(deployment, 'status', 'availableReplicas'),
        age(deployment, now),
        template.names,
        template.images,
        selectorCell(fieldAt(deployment, ['spec', 'selector'])),
      ];
    },
  },
  'apps/replicasets': {
    columns: [nameColumn, column('Desired', 'integer'), column('Current', 'integer'), column('Ready', 'integer'), ageColumn, column('Containers', 'string', 1), column('Images', 'string', 1), column('Selector', 'string', 1)],
    cells: (replicaSet, now) => {
      const template = containers(fieldAt(replicaSet, ['spec', 'template', 'spec']));
      return [replicaSet.metadata.name, numberAt(replicaSet, 'spec', 'replicas'), numberAt(replicaSet, 'status', 'replicas'), numberAt(replicaSet, 'status', 'readyReplicas'), age(replicaSet, now), template.names, template.images, selectorCell(fieldAt(replicaSet, ['spec', 'selector']))];
    },
  },
  'apps/daemonsets': {
    columns: [nameColumn, column('Desired', 'integer'), column('Current', 'integer'), column('Ready', 'integer'), column('Up-to-date', 'integer'), column('Available', 'integer'), column('Node Selector'), ageColumn, column('Containers', 'string', 1), column('Images', 'string', 1), column('Selector', 'string', 1)],
    cells: (daemonSet, now) => {
      const template = containers(fieldAt(daemonSet, ['spec', 'template', 'spec']));
      const nodeSelector = Object.entries(objectAt(daemonSet, 'spec', 'template', 'spec', 'nodeSelector')).map(([key, value]) => `${key}=${String(value)}`);
      return [
        daemonSet.metadata.name,
        numberAt(daemonSet, 'status', 'desiredNumberScheduled'),
        numberAt(daemonSet, 'status', 'currentNumberScheduled'),
        numberAt(daemonSet, 'status', 'numberReady'),
        numberAt(daemonSet, 'status', 'updatedNumberScheduled'),
        numberAt(daemonSet, 'status', 'numberAvailable'),
        nodeSelector.length === 0 ? '<none>' : nodeSelector.join(','),
        age(daemonSet, now),
        template.names,
        template.images,
        selectorCell(fieldAt(daemonSet, ['spec', 'selector'])),
      ];
    },
  },
  'apps/statefulsets': {
    columns: [nameColumn, column('Ready'), ageColumn, column('Containers', 'string', 1), column('Images', 'string', 1)],
    cells: (statefulSet, now) => {
      const template = containers(fieldAt(statefulSet, ['spec', 'template', 'spec']));
      return [statefulSet.metadata.name, `${numberAt(statefulSet, 'status', 'readyReplicas')}/${numberAt(statefulSet, 'spec', 'replicas')}`, age(statefulSet, now), template.names, template.images];
    },
  },
  '/services': {
    columns: [nameColumn, column('Type'), column('Cluster-IP'), column('External-IP'), column('Port(s)'), ageColumn, column('Selector', 'string', 1)],
    cells: (service, now) => {
      const selector = Object.entries(objectAt(service, 'spec', 'selector')).map(([key, value]) => `${key}=${String(value)}`);
      return [service.metadata.name, textAt(service, 'ClusterIP', 'spec', 'type'), textAt(service, '<none>', 'spec', 'clusterIP'), externalIps(service), servicePorts(service), age(service, now), selector.length === 0 ? '<none>' : selector.join(',')];
    },
  },
  '/endpoints': {
    columns: [nameColumn, column('Endpoints'), ageColumn],
    cells: (endpoints, now) => {
      const addresses = arrayAt(endpoints, 'subsets').flatMap((subset) => {
        const ports = arrayAt(subset, 'ports').map((port) => port.port);
        const ips = arrayAt(subset, 'addresses').map((address) => String(address.ip ?? ''));
        return ports.length === 0 ? ips : ips.flatMap((ip) => ports.map((port) => `${ip}:${String(port)}`));
      });
      return [endpoints.metadata.name, listText(addresses.slice(0, 3), addresses.length - 3), age(endpoints, now)];
    },
  },
  'discovery.k8s.io/endpointslices': {
    columns: [nameColumn, column('AddressType'), column('Ports'), column('Endpoints'), ageColumn],
    cells: (slice, now) => {
      const ports = arrayAt(slice, 'ports').map((port) => String(port.port ?? ''));
      const addresses = arrayAt(slice, 'endpoints').flatMap((endpoint) => (Array.isArray(endpoint.addresses) ? endpoint.addresses.map(String) : []));
      return [slice.metadata.name, textAt(slice, '', 'addressType'), ports.length === 0 ? '<unset>' : ports.join(','), addresses.length === 0 ? '<unset>' : listText(addresses.slice(0, 3), addresses.length - 3), age(slice, now)];
    },
  },
  '/nodes': {
    columns: [nameColumn, column('Status'), column('Roles'), ageColumn, column('Version'), column('Internal-IP', 'string', 1), column('External-IP', 'string', 1), column('OS-Image', 'string', 1), column('Kernel-Version', 'string', 1), column('Container-Runtime', 'string', 1)],
    cells: (node, now) => [
      node.metadata.name,
      nodeStatus(node),
      nodeRoles(node),
      age(node, now),
      textAt(node, '', 'status', 'nodeInfo', 'kubeletVersion'),
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      textAt(node, '<unknown>', 'status', 'nodeInfo', 'osImage'),
      textAt(node, '<unknown>', 'status', 'nodeInfo', 'kernelVersion'),
      textAt(node, '<unknown>', 'status', 'nodeInfo', 'containerRuntimeVersion'),
    ],
  },
  '/namespaces': {
    columns: [nameColumn, column('Status'), ageColumn],
    cells: (namespace, now) => [namespace.metadata.name, namespace.metadata.deletionTimestamp ? 'Terminating' : textAt(namespace, 'Active', 'status', 'phase'), age(namespace, now)],
  },
  '/configmaps': {
    columns: [nameColumn, column('Data', 'integer'), ageColumn],
    cells: (configMap, now) => [configMap.metadata.name, Object.keys(objectAt(configMap, 'data')).length + Object.keys(objectAt(configMap, 'binaryData')).length, age(configMap, now)],
  },
  '/secrets': {
    columns: [nameColumn, column('Type'), column('Data', 'integer'), ageColumn],
    cells: (secret, now) => [secret.metadata.name, textAt(secret, 'Opaque', 'type'), Object.keys(objectAt(secret, 'data')).length, age(secret, now)],
  },
  '/serviceaccounts': {
    columns: [nameColumn, column('Secrets', 'integer'), ageColumn],
    cells: (account, now) => [account.metadata.name, arrayAt(account, 'secrets').length, age(account, now)],
  },
  'networking.k8s.io/networkpolicies': {
    columns: [nameColumn, column('Pod-Selector'), ageColumn],
    cells: (policy, now) => [policy.metadata.name, labelSelectorText(fieldAt(policy, ['spec', 'podSelector'])) || '<none>', age(policy, now)],
  },
  'coordination.k8s.io/leases': {
    columns: [nameColumn, column('Holder'), ageColumn],
    cells: (lease, now) => [lease.metadata.name, textAt(lease, '', 'spec', 'holderIdentity'), age(lease, now)],
  },
  'apiextensions.k8s.io/customresourcedefinitions': {
    columns: [nameColumn, column('Created At', 'date')],
    cells: (crd) => [crd.metadata.name, crd.metadata.creationTimestamp ?? ''],
  },
};

/** Splits a JSONPath at the dots that are not escaped (`.metadata.labels.io\.kubernetes\.pod\.namespace`) nor inside brackets. */
function jsonPathSegments(jsonPath: string): string[] {
  const segments: string[] = [];
  let current = '';
  let depth = 0;
  const text = jsonPath.replace(/^\{?\$?/, '').replace(/\}$/, '');
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] ?? '';
    if (char === '\\' && text[index + 1] === '.') {
      current += '.';
      index += 1;
    } else if (char === '[') {
      if (depth === 0 && current !== '') {
        segments.push(current);
        current = '';
      }
      depth += 1;
      current += char;
    } else if (char === ']') {
      depth -= 1;
      current += char;
      if (depth === 0) {
        segments.push(current);
        current = '';
      }
    } else if (char === '.' && depth === 0) {
      if (current !== '') segments.push(current);
      current = '';
    } else current += char;
  }
  if (current !== '') segments.push(current);
  return segments;
}

/**
 * Reads a CRD printer column's JSONPath: fields, `[n]` indices and `[?(@.field=="value")]`
 * filters (Cilium's policies print `.status.conditions[?(@.type=="Valid")].status`).
 */
export function jsonPathValue(object: unknown, jsonPath: string): unknown {
  let current: unknown = object;
  for (const segment of jsonPathSegments(jsonPath)) {
    if (segment.startsWith('[')) {
      if (!Array.isArray(current)) return undefined;
      const filter = /^\[\?\(@\.([^=!]+)\s*==\s*["']([^"']*)["']\)\]$/.exec(segment);
      if (filter) {
        const [, field = '', value] = filter;
        current = current.find((item) => isJsonObject(item) && String(item[field.trim()]) === value);
      } else if (/^\[\d+\]$/.test(segment)) current = current[Number(segment.slice(1, -1))];
      else return undefined;
    } else {
      if (!isJsonObject(current)) return undefined;
      current = current[segment];
    }
  }
  return current;
}

function customPrinter(printerColumns: PrinterColumn[]): Printer {
  return {
    columns: [nameColumn, ...printerColumns.map((printerColumn) => ({ name: printerColumn.name, type: printerColumn.type, format: printerColumn.format ?? '', description: printerColumn.description ?? '', priority: printerColumn.priority ?? 0 }))],
    cells: (object, now) => [
      object.metadata.name,
      ...printerColumns.map((printerColumn) => {
        const value = jsonPathValue(object, printerColumn.jsonPath);
        if (value === undefined || value === null) return null;
        if (printerColumn.type === 'date' && typeof value === 'string') return humanDuration(now.getTime() - Date.parse(value));
        return isJsonObject(value) || Array.isArray(value) ? JSON.stringify(value) : value;
      }),
    ],
  };
}

const defaultCustomColumns: PrinterColumn[] = [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];

function printerFor(resource: ResourceDefinition): Printer {
  if (resource.definedBy !== undefined) return customPrinter(resource.printerColumns && resource.printerColumns.length > 0 ? resource.printerColumns : defaultCustomColumns);
  return builtInPrinters[`${resource.group}/${resource.plural}`] ?? { columns: [nameColumn, ageColumn], cells: (object, now) => [object.metadata.name, age(object, now)] };
}

export type IncludeObject = 'None' | 'Object' | 'Metadata';

function rowObject(object: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

export function toTable(
  resource: ResourceDefinition,
  objects: KubeObject[],
  options: { include: IncludeObject; now: Date; listMeta?: Table['metadata']; noHeaders?: boolean },
): Table {
  const printer = printerFor(resource);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: options.listMeta ?? {},
    columnDefinitions: options.noHeaders ? [] : printer.columns,
    rows: objects.map((object) => {
      const row: TableRow = { cells: printer.cells(object, options.now) };
      const included = rowObject(object, options.include);
      if (included !== undefined) row.object = included;
      return row;
    }),
  };
}
