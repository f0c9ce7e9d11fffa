// One JSON request to the Kubernetes API, signed by @kubernetes/client-node's KubeConfig (the
// token, client certificate and CA it holds) and sent with the fetch client-node's own Watch uses.
import type { KubeConfig } from '@kubernetes/client-node';
import fetch from 'node-fetch';
import { z } from 'zod';

/** metav1.Status, as the API server answers a failed request. */
const statusSchema = z.looseObject({
  kind: z.literal('Status'),
  code: z.number().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** A request the API server answered with an error status (or that never reached it: `code` 0). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly code: number,
    /** metav1.Status reason, e.g. AlreadyExists, Expired, NotFound; empty when the server sent none. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function isGone(error: unknown): boolean {
  return error instanceof KubeApiError && (error.code === 410 || error.reason === 'Expired' || error.reason === 'Gone');
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** A request that gets no answer within this long fails (default 60 s). */
  timeoutMs?: number;
  /** Aborts the request, e.g. when the informer that sent it closes. */
  signal?: AbortSignal;
}

/** The answer's JSON body; a KubeApiError for any status outside 2xx or a transport failure. */
export async function apiRequest(kubeConfig: KubeConfig, request: ApiRequest): Promise<unknown> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new KubeApiError(0, '', 'the kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + request.path);
  for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
  const init = await kubeConfig.applyToFetchOptions({});
  // client-node hands back the WHATWG Headers of Node's own fetch; node-fetch takes a plain record.
  const headers: Record<string, string> = Object.fromEntries(new Headers(init.headers as unknown as ConstructorParameters<typeof Headers>[0]));
  headers.Accept = 'application/json';
  init.method = request.method;
  if (request.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(request.body);
  }
  init.headers = headers;
  const timeout = AbortSignal.timeout(request.timeoutMs ?? 60_000);
  init.signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const what = `${request.method} ${url.pathname}`;
  let response;
  let text: string;
  try {
    response = await fetch(url, init);
    text = await response.text();
  } catch (error) {
    throw new KubeApiError(0, '', `${what} on ${cluster.server} failed: ${(error as Error).message}`);
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.ok) {
    if (body === undefined) throw new KubeApiError(response.status, '', `${what}: the answer is not JSON`);
    return body;
  }
  const status = statusSchema.safeParse(body);
  const reason = status.success ? (status.data.reason ?? '') : '';
  const message = status.success ? (status.data.message ?? '') : text.slice(0, 200);
  throw new KubeApiError(response.status, reason, `${what}: ${response.status} ${reason || response.statusText}${message ? `: ${message}` : ''}`);
}
