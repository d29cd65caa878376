import * as z from 'zod/mini'
import '../zod-locale'
import type { Config } from '../config'

export type AskLimits = Pick<Config, 'maxQuestionChars' | 'maxHistoryTurns'>

/** `POST /v1/ask` and `/getAnwser` bodies; limits come from config, so the schema is built from them. */
export function askBodySchema(limits: AskLimits) {
  return z.object({
    question: z
      .string({ error: (issue) => (issue.input === undefined ? '"question" is required' : '"question" must be a string') })
      .check(
        z.trim(),
        z.minLength(1, '"question" must not be empty'),
        z.maxLength(limits.maxQuestionChars, `"question" must be at most ${limits.maxQuestionChars} characters`),
      ),
    history: z.optional(
      z
        .array(
          z.object({
            role: z.enum(['user', 'assistant'], { error: 'history roles are "user" or "assistant"' }),
            content: z.string({ error: 'history content must be a string' }).check(z.maxLength(limits.maxQuestionChars * 4)),
          }),
          { error: '"history" must be an array of {role, content}' },
        )
        .check(z.maxLength(limits.maxHistoryTurns, `"history" may hold at most ${limits.maxHistoryTurns} turns`)),
    ),
    /** Run the checked SQL read-only and stream its rows (when SQL_EXECUTE allows it). */
    execute: z.optional(z.boolean({ error: '"execute" must be true or false' })),
    /** Explain the rows in words after them (`summary` events); needs `execute`. */
    summarize: z.optional(z.boolean({ error: '"summarize" must be true or false' })),
    /** `false`: do not replay a cached answer (a fresh one is asked for, and then cached). */
    cache: z.optional(z.boolean({ error: '"cache" must be true or false' })),
  }).check(
    z.refine((body) => !body.summarize || body.execute === true, { message: '"summarize" needs "execute": true (there are no rows to explain otherwise)', path: ['summarize'] }),
  )
}

export type AskBody = z.infer<ReturnType<typeof askBodySchema>>

const schemas = new Map<string, ReturnType<typeof askBodySchema>>()

/** Validates once per request against a schema built once per distinct limits. */
export function parseAskBody(value: unknown, limits: AskLimits): { ok: true; body: AskBody } | { ok: false; message: string } {
  const key = `${limits.maxQuestionChars}/${limits.maxHistoryTurns}`
  let schema = schemas.get(key)
  if (!schema) schemas.set(key, (schema = askBodySchema(limits)))
  const result = schema.safeParse(value)
  if (result.success) return { ok: true, body: result.data }
  const issue = result.error.issues[0]
  const where = issue && issue.path.length > 0 && !issue.message.includes('"') ? `${issue.path.join('.')}: ` : ''
  return { ok: false, message: issue ? where + issue.message : 'invalid body' }
}
