import { z } from 'zod';
import type { ObserveRequest } from '@tycho/flow';
import { describeSchemaIssues } from './schemaIssues.ts';

const timestamp = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time such as 2024-01-01T00:00:00Z' });

/**
 * The one schema for `ObserveRequest`: the agent validates what arrives on
 * `/v1/observe` with it, and the CLI checks what it is about to send.
 */
export const observeRequestSchema = z.strictObject({
  number: z.number({ error: 'expected a number' }).int('expected an integer').nonnegative('expected a non-negative integer').optional(),
  first: z.boolean({ error: 'expected true or false' }).optional(),
  follow: z.boolean({ error: 'expected true or false' }).optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
}) satisfies z.ZodType<ObserveRequest>;

export type ParsedObserveRequest =
  | { ok: true; request: ObserveRequest }
  | { ok: false; error: string };

/** Validates a decoded request; the error names each offending field. */
export function parseObserveRequest(input: unknown): ParsedObserveRequest {
  const parsed = observeRequestSchema.safeParse(input);
  if (!parsed.success) return { ok: false, error: `invalid observe request: ${describeSchemaIssues(parsed.error, 'request')}` };
  if (parsed.data.first && parsed.data.number === undefined) {
    return { ok: false, error: 'invalid observe request: first: needs number (the first N flows)' };
  }
  return { ok: true, request: parsed.data };
}
