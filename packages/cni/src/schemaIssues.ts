// Turns a zod validation failure into one line a person can act on: where, what was wrong, what was expected.
import type { z } from 'zod';

export function describeIssues(error: z.ZodError, source: string): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length === 0 ? source : `${source} ${issue.path.map(String).join('.')}`;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}
