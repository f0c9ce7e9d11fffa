import type { HttpEndpoint } from '@tycho/servicemap';

/**
 * The HTTP endpoints a card serves in one short line for the card's http
 * port row, grouped by method in the card's order (most requested first):
 * `GET /public /private · POST /login`.
 */
export function httpEndpointsSummary(endpoints: readonly HttpEndpoint[] | undefined): string {
  const pathsByMethod = new Map<string, string[]>();
  for (const endpoint of endpoints ?? []) {
    const paths = pathsByMethod.get(endpoint.method) ?? [];
    paths.push(endpoint.path);
    pathsByMethod.set(endpoint.method, paths);
  }
  return [...pathsByMethod].map(([method, paths]) => `${method} ${paths.join(' ')}`).join(' · ');
}
