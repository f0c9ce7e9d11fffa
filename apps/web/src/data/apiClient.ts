import type { z } from 'zod';
import type { Flow } from '@tycho/flow';
import type { FlowFilters } from '../domain/filterSyntax.ts';
import type { MetricsWindow } from '../domain/urlState.ts';
import { flowsResponseSchema, metricsSchema, namespacesSchema, nodesSchema, policiesSchema, serviceMapSchema, statusSchema } from './apiSchemas.ts';

/** The REST half of the API (the stream is streamClient.ts). Paths are relative to the page's origin. */

export class ApiError extends Error {
  constructor(message: string, readonly status: number | undefined) {
    super(message);
    this.name = 'ApiError';
  }
}

async function getJson<S extends z.ZodType>(path: string, schema: S, signal?: AbortSignal): Promise<z.infer<S>> {
  let response: Response;
  try {
    response = await fetch(path, { signal: signal ?? null, headers: { accept: 'application/json' } });
  } catch (error) {
    throw new ApiError(`cannot reach the Tycho API (${path}): ${error instanceof Error ? error.message : String(error)}`, undefined);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const detail = typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : response.statusText;
    throw new ApiError(`${path}: ${response.status} ${detail}`, response.status);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError(`${path}: unexpected answer: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`, response.status);
  return parsed.data;
}

export const fetchStatus = (signal?: AbortSignal) => getJson('/api/v1/status', statusSchema, signal);
export const fetchNamespaces = (signal?: AbortSignal) => getJson('/api/v1/namespaces', namespacesSchema, signal);
export const fetchNodes = (signal?: AbortSignal) => getJson('/api/v1/nodes', nodesSchema, signal);
export const fetchPolicies = (signal?: AbortSignal) => getJson('/api/v1/policies', policiesSchema, signal);

export function fetchServiceMap(namespace: string | undefined, signal?: AbortSignal) {
  return getJson(`/api/v1/service-map?namespace=${encodeURIComponent(namespace ?? 'all')}`, serviceMapSchema, signal);
}

export function fetchMetrics(window: MetricsWindow, namespace: string | undefined, signal?: AbortSignal) {
  const params = new URLSearchParams({ window, namespace: namespace ?? 'all' });
  return getJson(`/api/v1/metrics?${params}`, metricsSchema, signal);
}

export async function fetchFlows(filters: FlowFilters, number: number, signal?: AbortSignal): Promise<Flow[]> {
  const params = new URLSearchParams({ number: String(number) });
  if (filters.whitelist.length > 0) params.set('whitelist', JSON.stringify(filters.whitelist));
  if (filters.blacklist.length > 0) params.set('blacklist', JSON.stringify(filters.blacklist));
  const { flows } = await getJson(`/api/v1/flows?${params}`, flowsResponseSchema, signal);
  return flows.flatMap((response) => (response.flow ? [response.flow] : []));
}
