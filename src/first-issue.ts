import type * as z from 'zod/mini'

/** A zod error as one line a caller can act on: where (`tables.0.columns`, or `(root)`) and what. */
export function describeFirstIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0]
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'
}
