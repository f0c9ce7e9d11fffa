import { MAX_INTERNED_ENDPOINTS } from '@tycho/agent/client';
import type { Endpoint, Flow } from '@tycho/flow';

/** An endpoint an agent defined on one connection: the object every flow that refers to it shares, and its JSON text. */
interface InternedEndpoint {
  /** Frozen, with everything in it: listeners share it, and may key caches by it. */
  readonly endpoint: Endpoint;
  readonly text: string;
  /** The text as UTF-8. */
  readonly bytes: Uint8Array;
  /** `"source":<id>` and `"destination":<id>`: how a flow's text refers to it. */
  readonly sourceRef: string;
  readonly destinationRef: string;
  /** The same without the opening quote, as `refAt` searches for them. */
  readonly sourceSearch: string;
  readonly destinationSearch: string;
  /** Characters of the id in those refs. */
  readonly idLength: number;
}

/**
 * The relay's side of the interned-endpoints encoding of `/v1/observe`
 * (docs/contracts.md), for one connection: the endpoints the agent defined,
 * by id, and each flow made whole again from its refs.
 *
 * A flow's text is rebuilt by splicing the endpoints' texts in place of the
 * refs, so it is exactly the text the plain encoding would have carried; the
 * flow object gets the shared endpoint objects.
 */
export class InternedEndpoints {
  private byId: (InternedEndpoint | undefined)[] = [];

  /**
   * Applies a definitions message, `{"reset_endpoints"?:true,"endpoints":[[id,endpoint],…]}`,
   * all of it or (returning what is wrong) none of it.
   */
  define(message: unknown): string | undefined {
    if (!isObject(message) || !Array.isArray(message.endpoints)) return 'sent endpoint definitions without an endpoints list';
    const reset = message.reset_endpoints;
    if (reset !== undefined && typeof reset !== 'boolean') return `sent reset_endpoints ${JSON.stringify(reset)}; expected true or false`;
    const defined: [number, InternedEndpoint][] = [];
    for (const definition of message.endpoints as unknown[]) {
      if (!Array.isArray(definition) || definition.length !== 2) return `sent an endpoint definition that is not [id, endpoint]: ${JSON.stringify(definition)?.slice(0, 120)}`;
      const [id, endpoint] = definition as [unknown, unknown];
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= MAX_INTERNED_ENDPOINTS) {
        return `sent endpoint id ${JSON.stringify(id)}; expected an integer from 0 to ${MAX_INTERNED_ENDPOINTS - 1}`;
      }
      if (!isObject(endpoint) || Array.isArray(endpoint)) return `sent endpoint ${id} as ${JSON.stringify(endpoint)?.slice(0, 120)}; expected an object`;
      const text = JSON.stringify(endpoint);
      defined.push([id, { endpoint: deepFreeze(endpoint) as Endpoint, text, bytes: Buffer.from(text), sourceRef: `"source":${id}`, destinationRef: `"destination":${id}`, sourceSearch: `source":${id}`, destinationSearch: `destination":${id}`, idLength: String(id).length }]);
    }
    if (reset === true) this.byId = [];
    for (const [id, entry] of defined) this.byId[id] = entry;
    return undefined;
  }

  /**
   * Puts the defined endpoints in place of a flow's refs (numbers in `source`
   * or `destination`), in the flow and in its text (and in its bytes, when
   * given: the text's bytes, one per character); returns the flow's whole
   * text and bytes, or what is wrong. A flow without refs is left as it is.
   */
  resolve(flow: Flow, flowJson: string | undefined, flowBytes?: Uint8Array): { ok: true; flowJson: string | undefined; flowBytes: Uint8Array[] | undefined } | { ok: false; error: string } {
    const sourceId = flow.source as unknown;
    const destinationId = flow.destination as unknown;
    const source = typeof sourceId === 'number' ? this.byId[sourceId] : undefined;
    const destination = typeof destinationId === 'number' ? this.byId[destinationId] : undefined;
    if (source === undefined && typeof sourceId === 'number') return { ok: false, error: `sent flow ${flow.uuid} with source ${sourceId}, an endpoint it has not defined` };
    if (destination === undefined && typeof destinationId === 'number') return { ok: false, error: `sent flow ${flow.uuid} with destination ${destinationId}, an endpoint it has not defined` };
    const asSent = flowBytes === undefined ? undefined : [flowBytes];
    if (source === undefined && destination === undefined) return { ok: true, flowJson, flowBytes: asSent };
    if (source) flow.source = source.endpoint;
    if (destination) flow.destination = destination.endpoint;
    if (flowJson === undefined) return { ok: true, flowJson, flowBytes: undefined };

    const sourceAt = source ? refAt(flowJson, source.sourceSearch) : -1;
    const destinationAt = destination ? refAt(flowJson, destination.destinationSearch) : -1;
    if (source && sourceAt < 0) return { ok: false, error: `sent flow ${flow.uuid} whose text does not hold ${source.sourceRef} exactly once as a value` };
    if (destination && destinationAt < 0) return { ok: false, error: `sent flow ${flow.uuid} whose text does not hold ${destination.destinationRef} exactly once as a value` };
    // The ids' places in the text, in order: [start, end, endpoint].
    const places: [number, number, InternedEndpoint][] = [];
    if (source) places.push([sourceAt + source.sourceRef.length - source.idLength, sourceAt + source.sourceRef.length, source]);
    if (destination) places.push([destinationAt + destination.destinationRef.length - destination.idLength, destinationAt + destination.destinationRef.length, destination]);
    if (places.length === 2 && places[1]![0] < places[0]![0]) places.reverse();
    let text = '';
    const pieces: Uint8Array[] | undefined = flowBytes === undefined ? undefined : [];
    let from = 0;
    for (const [start, end, entry] of places) {
      text += flowJson.slice(from, start) + entry.text;
      pieces?.push(flowBytes!.subarray(from, start), entry.bytes);
      from = end;
    }
    text += flowJson.slice(from);
    pieces?.push(flowBytes!.subarray(from));
    return { ok: true, flowJson: text, flowBytes: pieces };
  }
}

/**
 * Where a ref `"key":<id>` occurs in a flow's text as a whole member (after
 * `{` or `,`, followed by `,` or `}`); -1 when it does not, or occurs so more
 * than once (a nested object with the same key and value, which the splice
 * could mistake). `unquoted` is the ref without its opening quote: a pattern
 * starting with `"` stops at every key, and costs several times more.
 */
function refAt(text: string, unquoted: string): number {
  let found = -1;
  for (let at = text.indexOf(unquoted, 1); at >= 0; at = text.indexOf(unquoted, at + unquoted.length)) {
    const before = text.charCodeAt(at - 2);
    const after = text.charCodeAt(at + unquoted.length);
    if (text.charCodeAt(at - 1) !== 34 || (before !== 44 && before !== 123) || (after !== 44 && after !== 125)) continue; // '"' ',' '{' '}'
    if (found >= 0) return -1;
    found = at - 1;
  }
  return found;
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
