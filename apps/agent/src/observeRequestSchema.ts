import { z } from 'zod';
import { FilterError, validateFilters, type FlowFilter } from '@tycho/filters';
import { parseTimestamp, type ObserveRequest } from '@tycho/flow';
import { describeSchemaIssues } from './schemaIssues.ts';

const TIMESTAMP_FORM = 'expected an RFC 3339 time such as 2024-01-01T00:00:00Z';

/** Read by the parser the observer compares flow times with, so that what passes here is what it reads. */
const timestamp = z.string({ error: TIMESTAMP_FORM }).superRefine((text, ctx) => {
  const parsed = parseTimestamp(text);
  if (parsed === undefined) ctx.addIssue({ code: 'custom', message: TIMESTAMP_FORM });
  else if ('notRealTime' in parsed) ctx.addIssue({ code: 'custom', message: `not a real time: ${parsed.notRealTime}` });
});
const filterList = z.array(z.unknown(), { error: 'expected a list of FlowFilter objects such as [{"verdict":["DROPPED"]}]' });

/** Hubble's GetFlowsRequest as JSON: the range and follow of `ObserveRequest`, plus FlowFilters applied by the agent. */
export interface GetFlowsRequest extends ObserveRequest {
  /** A flow is sent when it matches any of these (all when empty) … */
  whitelist?: FlowFilter[];
  /** … and none of these. */
  blacklist?: FlowFilter[];
}

/**
 * The one schema for `GetFlowsRequest`: the agent validates what arrives on
 * `/v1/observe` with it, and the CLI checks what it is about to send. The
 * filters' values are checked by `@tycho/filters` in `parseObserveRequest`.
 */
export const observeRequestSchema = z.strictObject({
  number: z.number({ error: 'expected a number' }).int('expected an integer').nonnegative('expected a non-negative integer').optional(),
  first: z.boolean({ error: 'expected true or false' }).optional(),
  follow: z.boolean({ error: 'expected true or false' }).optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
  whitelist: filterList.optional(),
  blacklist: filterList.optional(),
});

export type ParsedObserveRequest =
  | { ok: true; request: GetFlowsRequest }
  | { ok: false; error: string };

/** Validates a decoded request; the error names each offending field (and, for filters, the bad value). */
export function parseObserveRequest(input: unknown): ParsedObserveRequest {
  const parsed = observeRequestSchema.safeParse(input);
  if (!parsed.success) return { ok: false, error: `invalid observe request: ${describeSchemaIssues(parsed.error, 'request')}` };
  const { whitelist, blacklist, ...range } = parsed.data;
  if (range.first && range.number === undefined) {
    return { ok: false, error: 'invalid observe request: first: needs number (the first N flows)' };
  }
  const request: GetFlowsRequest = range;
  try {
    if (whitelist !== undefined) request.whitelist = validateFilters(whitelist, 'whitelist');
    if (blacklist !== undefined) request.blacklist = validateFilters(blacklist, 'blacklist');
  } catch (err) {
    if (err instanceof FilterError) return { ok: false, error: `invalid observe request: ${err.message}` };
    throw err;
  }
  return { ok: true, request };
}
