// What makes an object invalid (422 with field causes), in kube-apiserver's words: names, and the
// required fields of the kinds the lab writes. Deliberately far smaller than Kubernetes' validation:
// it checks what a controller or the datapath would otherwise trip over.
import { isJsonObject, type KubeObject } from './kubeObject.ts';
import type { ResourceDefinition } from './resourceRegistry.ts';
import { labelSelectorText, parseLabelSelector } from './selectors.ts';
import { invalid, type StatusCause } from './status.ts';

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Resources whose names must be DNS-1123 labels rather than subdomains. */
const labelNamedResources = new Set(['/namespaces', '/services']);
/** Resources that accept any path-safe name (RBAC names may carry ':'). */
const pathSegmentNamedResources = new Set(['rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/clusterroles', 'rbac.authorization.k8s.io/rolebindings', 'rbac.authorization.k8s.io/clusterrolebindings']);

function required(field: string, detail?: string): StatusCause {
  return { reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value', field };
}

function invalidValue(field: string, value: unknown, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field };
}

export function nameCauses(resource: ResourceDefinition, name: string, field = 'metadata.name'): StatusCause[] {
  const key = `${resource.group}/${resource.plural}`;
  if (pathSegmentNamedResources.has(key)) {
    return name === '.' || name === '..' || /[/%]/.test(name) ? [invalidValue(field, name, 'may not be "." or ".." and may not contain "/" or "%"')] : [];
  }
  if (labelNamedResources.has(key)) {
    if (name.length > 63 || !dns1123Label.test(name)) {
      return [invalidValue(field, name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")];
    }
    return [];
  }
  if (name.length > 253 || !dns1123Subdomain.test(name)) {
    return [invalidValue(field, name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")];
  }
  return [];
}

function stringMapCauses(value: unknown, field: string): StatusCause[] {
  if (value === undefined || value === null) return [];
  if (!isJsonObject(value)) return [invalidValue(field, value, 'must be a map of strings')];
  return Object.entries(value)
    .filter(([, entry]) => typeof entry !== 'string')
    .map(([key, entry]) => invalidValue(`${field}.${key}`, entry, 'must be a string'));
}

function containerCauses(spec: unknown, field: string): StatusCause[] {
  const containers = isJsonObject(spec) ? spec.containers : undefined;
  if (!Array.isArray(containers) || containers.length === 0) return [required(`${field}.containers`)];
  return containers.flatMap((container, index) => {
    const at = `${field}.containers[${index}]`;
    if (!isJsonObject(container)) return [invalidValue(at, container, 'must be an object')];
    const causes: StatusCause[] = [];
    if (typeof container.name !== 'string' || container.name === '') causes.push(required(`${at}.name`));
    if (typeof container.image !== 'string' || container.image === '') causes.push(required(`${at}.image`));
    return causes;
  });
}

function workloadCauses(object: KubeObject): StatusCause[] {
  const spec = isJsonObject(object.spec) ? object.spec : {};
  const causes: StatusCause[] = [];
  if (!isJsonObject(spec.selector)) causes.push(required('spec.selector'));
  const template = isJsonObject(spec.template) ? spec.template : undefined;
  if (!template) return [...causes, required('spec.template')];
  const templateMetadata = isJsonObject(template.metadata) ? template.metadata : {};
  const labels = isJsonObject(templateMetadata.labels) ? (templateMetadata.labels as Record<string, string>) : {};
  if (isJsonObject(spec.selector)) {
    const selector = labelSelectorText(spec.selector);
    if (selector === '') causes.push(invalidValue('spec.selector', spec.selector, 'empty selector is invalid for deployment'));
    else if (!parseLabelSelector(selector).matches(labels)) {
      causes.push(invalidValue('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
    }
  }
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || (spec.replicas as number) < 0)) {
    causes.push(invalidValue('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  }
  return [...causes, ...containerCauses(template.spec, 'spec.template.spec')];
}

function serviceCauses(object: KubeObject): StatusCause[] {
  const spec = isJsonObject(object.spec) ? object.spec : {};
  if (spec.type === 'ExternalName') return typeof spec.externalName === 'string' ? [] : [required('spec.externalName')];
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && spec.clusterIP !== 'None') return [required('spec.ports')];
  return ports.flatMap((port, index) => {
    const at = `spec.ports[${index}]`;
    if (!isJsonObject(port)) return [invalidValue(at, port, 'must be an object')];
    const number = port.port;
    if (!Number.isInteger(number) || (number as number) < 1 || (number as number) > 65535) {
      return number === undefined ? [required(`${at}.port`)] : [invalidValue(`${at}.port`, number, 'must be between 1 and 65535, inclusive')];
    }
    return ports.length > 1 && typeof port.name !== 'string' ? [required(`${at}.name`)] : [];
  });
}

function customResourceDefinitionCauses(object: KubeObject): StatusCause[] {
  const spec = isJsonObject(object.spec) ? object.spec : {};
  const names = isJsonObject(spec.names) ? spec.names : {};
  const causes: StatusCause[] = [];
  if (typeof spec.group !== 'string' || spec.group === '') causes.push(required('spec.group'));
  if (typeof names.plural !== 'string' || names.plural === '') causes.push(required('spec.names.plural'));
  if (typeof names.kind !== 'string' || names.kind === '') causes.push(required('spec.names.kind'));
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(spec.scope ?? '')}: supported values: "Cluster", "Namespaced"`, field: 'spec.scope' });
  const versions = Array.isArray(spec.versions) ? spec.versions.filter(isJsonObject) : [];
  if (versions.length === 0) causes.push(required('spec.versions'));
  else if (versions.filter((version) => version.storage === true).length !== 1) {
    causes.push(invalidValue('spec.versions', versions.map((version) => version.name), 'must have exactly one version marked as storage version'));
  }
  if (typeof spec.group === 'string' && typeof names.plural === 'string' && object.metadata.name !== `${names.plural}.${spec.group}`) {
    causes.push(invalidValue('metadata.name', object.metadata.name, `must be spec.names.plural+"."+spec.group`));
  }
  return causes;
}

/** Throws 422 Invalid naming every field that is wrong; `name` is the name the object will have. */
export function validateObject(resource: ResourceDefinition, object: KubeObject): void {
  const name = object.metadata.name ?? '';
  const causes: StatusCause[] = [
    ...nameCauses(resource, name),
    ...stringMapCauses(object.metadata.labels, 'metadata.labels'),
    ...stringMapCauses(object.metadata.annotations, 'metadata.annotations'),
  ];
  const key = `${resource.group}/${resource.plural}`;
  if (key === '/pods') causes.push(...containerCauses(object.spec, 'spec'));
  else if (key === 'apps/deployments' || key === 'apps/replicasets' || key === 'apps/daemonsets' || key === 'apps/statefulsets') causes.push(...workloadCauses(object));
  else if (key === '/services') causes.push(...serviceCauses(object));
  else if (key === '/configmaps') causes.push(...stringMapCauses(object.data, 'data'));
  else if (key === 'discovery.k8s.io/endpointslices' && typeof object.addressType !== 'string') causes.push(required('addressType'));
  else if (key === 'apiextensions.k8s.io/customresourcedefinitions') causes.push(...customResourceDefinitionCauses(object));
  if (causes.length > 0) throw invalid(resource.group, resource.kind, name, causes);
}
