import type { Backend, Frontend, ServiceModel } from './serviceModel.ts';

/** What changed between two models, by frontend id and backend id. */
export interface ServiceModelDiff {
  readonly frontends: {
    readonly added: readonly Frontend[];
    /** Same id, but its backends, affinity or traffic policy changed. */
    readonly updated: readonly { readonly before: Frontend; readonly after: Frontend }[];
    readonly removed: readonly Frontend[];
  };
  readonly backends: { readonly added: readonly Backend[]; readonly removed: readonly Backend[] };
}

function sameFrontend(a: Frontend, b: Frontend): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Frontends and backends to add, update and remove to go from `before` to
 * `after` (build `after` with `previous: before` so ids carry over). A pod
 * turning ready or unready shows as updated frontends, plus an added or
 * removed backend when no other frontend uses it.
 */
export function diffServiceModels(before: Pick<ServiceModel, 'frontends' | 'backends'>, after: Pick<ServiceModel, 'frontends' | 'backends'>): ServiceModelDiff {
  const oldFrontends = new Map(before.frontends.map((f) => [f.id, f]));
  const newFrontends = new Map(after.frontends.map((f) => [f.id, f]));
  const oldBackends = new Set(before.backends.map((b) => b.id));
  const newBackends = new Set(after.backends.map((b) => b.id));
  const updated: { before: Frontend; after: Frontend }[] = [];
  const added: Frontend[] = [];
  for (const frontend of after.frontends) {
    const previous = oldFrontends.get(frontend.id);
    if (!previous) added.push(frontend);
    else if (!sameFrontend(previous, frontend)) updated.push({ before: previous, after: frontend });
  }
  return {
    frontends: { added, updated, removed: before.frontends.filter((f) => !newFrontends.has(f.id)) },
    backends: {
      added: after.backends.filter((b) => !oldBackends.has(b.id)),
      removed: before.backends.filter((b) => !newBackends.has(b.id)),
    },
  };
}
