import * as z from 'zod/mini'
import '../zod-locale'

/** `POST /v1/sql`'s body (its own module, so the OpenAPI build reads it without the route's database code). */
export const SqlRequestSchema = z.object({
  sql: z.string({ error: '"sql" must be a string' }).check(z.trim(), z.minLength(1, '"sql" must not be empty'), z.maxLength(100_000)),
  /** Run it read-only and return the rows (when SQL_EXECUTE allows it); only checked otherwise. */
  execute: z.optional(z.boolean({ error: '"execute" must be true or false' })),
})
