import type { GetFlowsResponse } from '@tycho/flow';

/**
 * The encodings of `/v1/observe` (docs/contracts.md, "Agent API"). A client
 * asks for one with the `encoding` query parameter of the upgrade request;
 * without it, or from an agent that predates it (which ignores the
 * parameter), messages are batches of plain GetFlowsResponse.
 */
export const OBSERVE_ENCODING_PARAM = 'encoding';

/**
 * Endpoints interned per connection: each distinct `source`/`destination`
 * object is sent once, in a definitions message, and flows carry its id in
 * its place. The relay asks for it; the CLI does not.
 */
export const INTERNED_ENDPOINTS = 'interned-endpoints';

export type ObserveEncoding = 'plain' | typeof INTERNED_ENDPOINTS;

/**
 * Ids an interned connection uses: ids are below this, and when an agent has
 * defined this many it starts over (`reset_endpoints`), so neither side
 * holds more than this many endpoints per connection.
 */
export const MAX_INTERNED_ENDPOINTS = 65_536;

/** Most responses in one `/v1/observe` message. */
export const MAX_RESPONSES_PER_BATCH = 1000;

/** The encoding a `/v1/observe` upgrade URL asks for, or an error naming the parameter. */
export function observeEncodingOf(url: URL): { ok: true; encoding: ObserveEncoding } | { ok: false; error: string } {
  const asked = url.searchParams.get(OBSERVE_ENCODING_PARAM);
  if (asked === null) return { ok: true, encoding: 'plain' };
  if (asked === INTERNED_ENDPOINTS) return { ok: true, encoding: INTERNED_ENDPOINTS };
  return { ok: false, error: `invalid observe request: ${OBSERVE_ENCODING_PARAM}: '${asked}' is not an encoding; expected '${INTERNED_ENDPOINTS}' or no ${OBSERVE_ENCODING_PARAM} parameter` };
}

/**
 * The agent's side of the interned-endpoints encoding for one connection.
 * `encode` writes a response as the plain encoding does (the same keys, in
 * the same order), except that a flow's `source` and `destination` are the
 * ids of their endpoints; an endpoint not sent before on this connection
 * (by its JSON text, so a changed endpoint is a new one) gets the next id and
 * a definition. `takeDefinitions` gives the definitions message to send
 * before the batch that uses them.
 */
export function createEndpointInterner(maxEndpoints = MAX_INTERNED_ENDPOINTS) {
  // Room for one more batch whose every flow brings two new endpoints, so ids stay below maxEndpoints.
  const startOverAt = Math.max(1, maxEndpoints - 2 * MAX_RESPONSES_PER_BATCH);
  const ids = new Map<string, number>();
  let definitions: string[] = [];
  let reset = false;

  function idOf(endpoint: unknown): number {
    const text = JSON.stringify(endpoint);
    let id = ids.get(text);
    if (id === undefined) {
      id = ids.size;
      ids.set(text, id);
      definitions.push(`[${id},${text}]`);
    }
    return id;
  }

  return {
    encode(response: GetFlowsResponse): string {
      const flow = response.flow;
      if (!flow || (typeof flow.source !== 'object' && typeof flow.destination !== 'object')) return JSON.stringify(response);
      // Spread keeps the keys in place, so the flow's text differs from the plain one only in the two values.
      const encoded: Record<string, unknown> = { ...flow };
      if (typeof flow.source === 'object') encoded.source = idOf(flow.source);
      if (typeof flow.destination === 'object') encoded.destination = idOf(flow.destination);
      return JSON.stringify({ ...response, flow: encoded });
    },

    /**
     * `{"endpoints":[[id,endpoint],…]}` for the endpoints first used since the
     * last call (with `"reset_endpoints":true` first when the ids started
     * over), or undefined when there are none. Call it between batches of at
     * most MAX_RESPONSES_PER_BATCH: when the table is nearly full, the ids
     * start over after it.
     */
    takeDefinitions(): string | undefined {
      let message: string | undefined;
      if (definitions.length > 0) {
        message = `{${reset ? '"reset_endpoints":true,' : ''}"endpoints":[${definitions.join(',')}]}`;
        definitions = [];
        reset = false;
      }
      if (ids.size >= startOverAt) {
        ids.clear();
        reset = true;
      }
      return message;
    },
  } as const;
}

export type EndpointInterner = ReturnType<typeof createEndpointInterner>;
