import type { z } from 'zod';

/** Zod issues as one line a person can act on: `number: expected a non-negative integer; since: …`. */
export function describeSchemaIssues(error: z.ZodError, root: string): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : root;
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}
