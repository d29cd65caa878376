import * as z from 'zod/mini'
import '../zod-locale'
import { describeFirstIssue } from '../first-issue'
import { parseCsv } from './parse-csv'

export const MAX_IMPORT_ROWS = 10_000

export const PairSchema = z.object({
  question: z.string().check(z.trim(), z.minLength(1, 'question must not be empty'), z.maxLength(4000)),
  sql: z.string().check(z.trim(), z.minLength(1, 'sql must not be empty'), z.maxLength(20_000)),
  approved: z.optional(z.boolean()),
})
export const PairListSchema = z.array(PairSchema).check(z.minLength(1), z.maxLength(MAX_IMPORT_ROWS))
export const WrappedSchema = z.object({ examples: PairListSchema })

/** `PATCH /v1/admin/examples/:id`: a new question, a new SQL, or both. */
export const EditSchema = z
  .object({ question: z.optional(PairSchema.shape.question), sql: z.optional(PairSchema.shape.sql) })
  .check(z.refine((v) => v.question !== undefined || v.sql !== undefined, { message: 'send "question", "sql" or both' }))

/** `POST /v1/admin/examples/:id/reject`: why, optionally (an empty body is no reason). */
export const RejectSchema = z.object({ reason: z.optional(z.nullable(z.string().check(z.trim(), z.maxLength(2000)))) })

/** `POST /v1/admin/examples-bulk`: one action on many examples (the review queue's "select all"). */
export const BulkSchema = z.object({
  action: z.enum(['approve', 'unapprove', 'reject', 'delete']),
  ids: z.array(z.string().check(z.regex(/^[1-9][0-9]{0,17}$/, 'an example id is a positive integer'))).check(z.minLength(1), z.maxLength(500)),
  reason: z.optional(z.nullable(z.string().check(z.trim(), z.maxLength(2000)))),
})

export type ExamplePair = z.infer<typeof PairSchema>

/** `{examples:[…]}` or a bare array of `{question, sql, approved?}`. */
export function parseExamplesJson(value: unknown): { ok: true; pairs: ExamplePair[] } | { ok: false; error: string } {
  // One schema per shape rather than a union: a union reports only "Invalid input" at the root
  // for a pair with a missing or mistyped field, instead of naming the pair and the field.
  if (Array.isArray(value)) return fromResult(PairListSchema.safeParse(value), (pairs) => pairs)
  if (typeof value !== 'object' || value === null) return { ok: false, error: '(root): send {"examples": [{question, sql}, …]} or an array of {question, sql}' }
  return fromResult(WrappedSchema.safeParse(value), (data) => data.examples)
}

function fromResult<T>(
  result: { success: true; data: T } | { success: false; error: z.core.$ZodError },
  pairsOf: (data: T) => ExamplePair[],
): { ok: true; pairs: ExamplePair[] } | { ok: false; error: string } {
  if (result.success) return { ok: true, pairs: pairsOf(result.data) }
  return { ok: false, error: describeFirstIssue(result.error) }
}

/** CSV with a header naming `question` and `sql` (any order, any case) and optionally `approved`. */
export function parseExamplesCsv(text: string): { ok: true; pairs: ExamplePair[] } | { ok: false; error: string } {
  const parsed = parseCsv(text)
  if (!parsed.ok) return parsed
  const [header, ...body] = parsed.rows
  if (!header) return { ok: false, error: 'the CSV is empty' }
  const names = header.map((h) => h.trim().toLowerCase())
  const q = names.indexOf('question')
  const s = names.indexOf('sql')
  const a = names.indexOf('approved')
  if (q < 0 || s < 0) return { ok: false, error: 'the CSV header must name the columns "question" and "sql"' }
  if (!body.length) return { ok: false, error: 'the CSV has a header but no rows' }
  if (body.length > MAX_IMPORT_ROWS) return { ok: false, error: `at most ${MAX_IMPORT_ROWS} rows per import` }
  const pairs: ExamplePair[] = []
  for (const [i, row] of body.entries()) {
    const approvedText = a >= 0 ? (row[a] ?? '').trim().toLowerCase() : ''
    if (approvedText && !/^(true|false|1|0|yes|no)$/.test(approvedText)) return { ok: false, error: `row ${i + 2}: "approved" must be true or false` }
    const one = PairSchema.safeParse({ question: row[q] ?? '', sql: row[s] ?? '', ...(approvedText ? { approved: /^(true|1|yes)$/.test(approvedText) } : {}) })
    if (!one.success) return { ok: false, error: `row ${i + 2}: ${one.error.issues[0]?.message ?? 'invalid'}` }
    pairs.push(one.data)
  }
  return { ok: true, pairs }
}
