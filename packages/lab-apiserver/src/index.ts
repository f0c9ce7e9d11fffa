export { serverSideApply } from './apply.ts';
export { createLabApiServer, serverVersion, type LabApiServer, type LabApiServerOptions } from './httpServer.ts';
export type { KubeObject, ObjectMeta } from './kubeObject.ts';
export { createObjectStore, type ObjectStore, type ObjectStoreOptions } from './objectStore.ts';
export { jsonMergePatch, jsonPatch, strategicMergePatch } from './patch.ts';
export { createResourceRegistry, type ResourceDefinition, type ResourceRegistry } from './resourceRegistry.ts';
export { parseFieldSelector, parseLabelSelector } from './selectors.ts';
export { StatusError, type Status } from './status.ts';
export { humanDuration, toTable } from './table.ts';
