// The OpenAPI v3 documents kubectl reads before it writes: `kubectl apply/create/patch` ask
// /openapi/v3 whether a kind's PATCH accepts the `fieldValidation` query parameter, and when it
// does they leave validation to the server instead of downloading the full schemas (which this
// double does not have). So each group-version document holds one PATCH operation per kind,
// tagged with x-kubernetes-group-version-kind, and the parameters the server honours.
import { createHash } from 'node:crypto';

import type { ResourceDefinition, ResourceRegistry } from './resourceRegistry.ts';

const patchParameters = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  description: `the ${name} query parameter`,
  schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
}));

function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

function objectPath(resource: ResourceDefinition): string {
  const base = `/${groupVersionPath(resource.group, resource.version)}`;
  return resource.namespaced ? `${base}/namespaces/{namespace}/${resource.plural}/{name}` : `${base}/${resource.plural}/{name}`;
}

function documentOf(resources: ResourceDefinition[]): object {
  const paths: Record<string, object> = {};
  for (const resource of resources) {
    paths[objectPath(resource)] = {
      patch: {
        description: `partially update the specified ${resource.kind}`,
        operationId: `patch${resource.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: resource.group, version: resource.version, kind: resource.kind },
        parameters: patchParameters,
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (tycho lab API server)', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}

function protobufField(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

/**
 * /openapi/v2 as kubectl ≤ 1.28 downloads it before `apply` (protobuf only, the gnostic
 * openapi_v2.Document): an empty document, swagger 2.0 with an info block and no definitions.
 * kubectl then falls back to its compiled-in types for strategic merge patches.
 */
export const openApiV2Protobuf = Buffer.concat([
  protobufField(1, Buffer.from('2.0')),
  protobufField(2, Buffer.concat([protobufField(1, Buffer.from('Kubernetes')), protobufField(2, Buffer.from('v1.32.0'))])),
]);
export const openApiV2Json = { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {} };

export function createOpenApi(registry: ResourceRegistry) {
  function groupVersions(): { group: string; version: string }[] {
    return registry.groups().flatMap((group) => group.versions.map((version) => ({ group: group.name, version })));
  }

  function document(group: string, version: string): object | undefined {
    const resources = registry.resourcesIn({ group, version });
    return resources.length === 0 ? undefined : documentOf(resources);
  }

  /** /openapi/v3: where each group-version's document is, with a hash that changes when its kinds do. */
  function root(): object {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const { group, version } of groupVersions()) {
      const text = JSON.stringify(document(group, version));
      const hash = createHash('sha512').update(text).digest('hex').slice(0, 64).toUpperCase();
      paths[groupVersionPath(group, version)] = { serverRelativeURL: `/openapi/v3/${groupVersionPath(group, version)}?hash=${hash}` };
    }
    return { paths };
  }

  /** The document at /openapi/v3/<segments>, or undefined for an unknown group-version. */
  function documentAt(segments: string[]): object | undefined {
    if (segments[0] === 'api' && segments.length === 2) return document('', segments[1] ?? '');
    if (segments[0] === 'apis' && segments.length === 3) return document(segments[1] ?? '', segments[2] ?? '');
    return undefined;
  }

  return { root, documentAt } as const;
}
