import { z } from 'zod';
import { FilterError, validateFilters, type FlowFilter } from '@tycho/filters';
import { epochNsFromTimestamp, parseDurationMs } from '@tycho/flow';

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

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A query parameter given once; Express hands repeated ones over as arrays. */
function single(name: string) {
  return z.unknown().transform((value, ctx) => {
    if (typeof value === 'string') return value;
    ctx.addIssue({ code: 'custom', message: `${name}: given more than once; give it once` });
    return z.NEVER;
  });
}

/** `30s`, `5m` (that long ago) or an RFC 3339 time → epoch nanoseconds. */
function time(name: string, nowMs: () => number) {
  return single(name).transform((text, ctx) => {
    const agoMs = parseDurationMs(text);
    if (agoMs !== undefined) return BigInt(Math.round(nowMs() - agoMs)) * 1_000_000n;
    const ns = epochNsFromTimestamp(text);
    if (ns !== undefined) return ns;
    ctx.addIssue({ code: 'custom', message: `${name}: '${text}' is not a time; expected a duration such as 30s, 5m, 1h or an RFC 3339 time such as 2024-01-01T00:00:00Z` });
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
        ctx.addIssue({ code: 'custom', message: `number: '${text}' is not a whole number from 1 to ${MAX_NUMBER}` });
        return z.NEVER;
      })
      .optional(),
    first: single('first')
      .transform((text, ctx) => {
        if (text === 'true' || text === 'false') return text === 'true';
        ctx.addIssue({ code: 'custom', message: `first: '${text}' is not true or false` });
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
        if (text === 'all' || NAMESPACE.test(text)) return text;
        ctx.addIssue({ code: 'custom', message: `namespace: '${text}' is not a namespace name or 'all'` });
        return z.NEVER;
      })
      .optional(),
    since: time('since', nowMs).optional(),
  });
}

/** The first problem, phrased `<param>: <what is wrong>`; unknown parameters are named too. */
function describe(error: z.ZodError, known: readonly string[]): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid query';
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return `${key}: unknown parameter; expected ${known.join(', ')}`;
  }
  return issue.message;
}

/** Parses the query of `GET /api/v1/flows`. */
export function parseFlowsQuery(params: Record<string, unknown>, nowMs: () => number = Date.now): Parsed<FlowsQuery> {
  const parsed = flowsQuerySchema(nowMs).safeParse(params);
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
  const parsed = serviceMapQuerySchema(nowMs).safeParse(params);
  if (!parsed.success) return { ok: false, error: describe(parsed.error, ['namespace', 'since']) };
  const namespace = parsed.data.namespace === 'all' ? undefined : parsed.data.namespace;
  return { ok: true, value: { namespace, sinceNs: parsed.data.since } };
}

/** The `since` of a stream subscription, with the same notation as the query parameter. */
export function parseSince(text: string, nowMs: () => number = Date.now): Parsed<bigint> {
  const parsed = time('since', nowMs).safeParse(text);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, error: describe(parsed.error, ['since']) };
}
