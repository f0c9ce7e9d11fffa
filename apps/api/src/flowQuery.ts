import { z } from 'zod';
import { FilterError, namespaceNameProblem, validateFilters, type FlowFilter } from '@tycho/filters';
import { parseDuration, parseTimestamp } from '@tycho/flow';

/** What `GET /api/v1/flows` asks for, validated. */
export interface FlowsQuery {
  whitelist: FlowFilter[];
  blacklist: FlowFilter[];
  number: number | undefined;
  first: boolean;
  sinceNs: bigint | undefined;
  untilNs: bigint | undefined;
}

/** What `GET /api/v1/service-map` asks for; `namespace` undefined = all namespaces. */
export interface ServiceMapQuery {
  namespace: string | undefined;
  sinceNs: bigint | undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Hubble's default when nothing selects a range: the last 20 flows. */
export const DEFAULT_NUMBER = 20;
export const MAX_NUMBER = 65_535;

const TIME_FORMS = 'expected a duration such as 30s, 5m, 1h or an RFC 3339 time such as 2024-01-01T00:00:00Z';
const MAX_QUOTED_CHARS = 40;

/** A client's text as an error message repeats it: quoted, and cut short (a client can send kilobytes). */
export function quoted(text: string): string {
  return `'${text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text}'`;
}

/**
 * `colour: unknown field; expected …`; a key too long to repeat is named
 * after what holds it: `query: unknown parameter 'aaaa…' (1025 characters); expected …`.
 */
export function unknownKeyError(key: string, kind: 'parameter' | 'field', holder: 'query' | 'message', expected: readonly string[]): string {
  const known = `expected ${expected.join(', ')}`;
  return key.length > MAX_QUOTED_CHARS ? `${holder}: unknown ${kind} ${quoted(key)} (${key.length} characters); ${known}` : `${key}: unknown ${kind}; ${known}`;
}

/** The `namespace` of a query or subscription: a namespace name, or `all` (undefined). */
export function parseNamespace(text: string): Parsed<string | undefined> {
  if (text === 'all') return { ok: true, value: undefined };
  const problem = namespaceNameProblem(text);
  return problem === undefined ? { ok: true, value: text } : { ok: false, error: `namespace: ${problem}; expected a namespace name or 'all'` };
}

/** A query parameter given once; Express hands repeated ones over as arrays. */
function single(name: string) {
  return z.unknown().transform((value, ctx) => {
    if (typeof value === 'string') return value;
    ctx.addIssue({ code: 'custom', message: `${name}: given more than once; give it once` });
    return z.NEVER;
  });
}

/** `30s`, `5m` (that long ago, back to 1970 at most) or an RFC 3339 time → epoch nanoseconds; or what is wrong. */
function timeOf(name: string, text: string, nowMs: () => number): Parsed<bigint> {
  const duration = parseDuration(text);
  if (duration !== undefined) {
    const now = nowMs();
    if ('ms' in duration && duration.ms <= now) return { ok: true, value: BigInt(Math.round(now - duration.ms)) * 1_000_000n };
    const hoursSinceEpoch = Math.floor(now / 3_600_000);
    return { ok: false, error: `${name}: ${quoted(text)} reaches back before 1970-01-01T00:00:00Z; a duration ago may be at most ${hoursSinceEpoch}h, or give an RFC 3339 time` };
  }
  const timestamp = parseTimestamp(text);
  if (timestamp === undefined) return { ok: false, error: `${name}: ${quoted(text)} is not a time; ${TIME_FORMS}` };
  if ('notRealTime' in timestamp) return { ok: false, error: `${name}: ${quoted(text)} is not a real time: ${timestamp.notRealTime}` };
  return { ok: true, value: timestamp.epochNs };
}

function time(name: string, nowMs: () => number) {
  return single(name).transform((text, ctx) => {
    const parsed = timeOf(name, text, nowMs);
    if (parsed.ok) return parsed.value;
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  });
}

function filters(name: 'whitelist' | 'blacklist') {
  return single(name).transform((text, ctx) => {
    let decoded: unknown;
    try {
      decoded = JSON.parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `${name}: not JSON (${(err as Error).message}); expected a JSON list of FlowFilter objects such as [{"verdict":["DROPPED"]}]` });
      return z.NEVER;
    }
    try {
      return validateFilters(decoded, name);
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
      return z.NEVER;
    }
  });
}

function flowsQuerySchema(nowMs: () => number) {
  return z.strictObject({
    whitelist: filters('whitelist').optional(),
    blacklist: filters('blacklist').optional(),
    number: single('number')
      .transform((text, ctx) => {
        if (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= MAX_NUMBER) return Number(text);
        ctx.addIssue({ code: 'custom', message: `number: ${quoted(text)} is not a whole number from 1 to ${MAX_NUMBER}` });
        return z.NEVER;
      })
      .optional(),
    first: single('first')
      .transform((text, ctx) => {
        if (text === 'true' || text === 'false') return text === 'true';
        ctx.addIssue({ code: 'custom', message: `first: ${quoted(text)} is not true or false` });
        return z.NEVER;
      })
      .optional(),
    since: time('since', nowMs).optional(),
    until: time('until', nowMs).optional(),
  });
}

function serviceMapQuerySchema(nowMs: () => number) {
  return z.strictObject({
    namespace: single('namespace')
      .transform((text, ctx) => {
        const namespace = parseNamespace(text);
        if (namespace.ok) return namespace.value;
        ctx.addIssue({ code: 'custom', message: namespace.error });
        return z.NEVER;
      })
      .optional(),
    since: time('since', nowMs).optional(),
  });
}

/**
 * A query's schema for its clock, built once per clock: building a zod schema
 * (and the parser zod compiles for it) costs more than parsing a query with it.
 */
function schemaFor<S>(schemas: WeakMap<() => number, S>, nowMs: () => number, build: (nowMs: () => number) => S): S {
  let schema = schemas.get(nowMs);
  if (schema === undefined) schemas.set(nowMs, (schema = build(nowMs)));
  return schema;
}

const flowsQuerySchemas = new WeakMap<() => number, ReturnType<typeof flowsQuerySchema>>();
const serviceMapQuerySchemas = new WeakMap<() => number, ReturnType<typeof serviceMapQuerySchema>>();

/** The first problem, phrased `<param>: <what is wrong>`; unknown parameters are named too. */
function describe(error: z.ZodError, known: readonly string[]): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid query';
  if (issue.code === 'unrecognized_keys') return unknownKeyError(issue.keys[0] ?? '', 'parameter', 'query', known);
  return issue.message;
}

/** Parses the query of `GET /api/v1/flows`. */
export function parseFlowsQuery(params: Record<string, unknown>, nowMs: () => number = Date.now): Parsed<FlowsQuery> {
  const parsed = schemaFor(flowsQuerySchemas, nowMs, flowsQuerySchema).safeParse(params);
  if (!parsed.success) return { ok: false, error: describe(parsed.error, ['whitelist', 'blacklist', 'number', 'first', 'since', 'until']) };
  const { whitelist = [], blacklist = [], number, first = false, since, until } = parsed.data;
  if (first && number === undefined) return { ok: false, error: 'first: needs number (the first N flows)' };
  if (since !== undefined && until !== undefined && since > until) return { ok: false, error: 'until: is before since' };
  const noRange = number === undefined && since === undefined && until === undefined;
  return {
    ok: true,
    value: { whitelist, blacklist, number: noRange ? DEFAULT_NUMBER : number, first, sinceNs: since, untilNs: until },
  };
}

/** Parses the query of `GET /api/v1/service-map`. */
export function parseServiceMapQuery(params: Record<string, unknown>, nowMs: () => number = Date.now): Parsed<ServiceMapQuery> {
  const parsed = schemaFor(serviceMapQuerySchemas, nowMs, serviceMapQuerySchema).safeParse(params);
  if (!parsed.success) return { ok: false, error: describe(parsed.error, ['namespace', 'since']) };
  return { ok: true, value: { namespace: parsed.data.namespace, sinceNs: parsed.data.since } };
}

/** The `since` of a stream subscription, with the same notation as the query parameter. */
export function parseSince(text: string, nowMs: () => number = Date.now): Parsed<bigint> {
  return timeOf('since', text, nowMs);
}
