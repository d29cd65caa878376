import * as z from 'zod/mini'
import type { ErrorCode } from '../errors'
import type { SqlRunResponse } from '../mcp/tools'
import { RESULT_CODES, type AnswerEvent, type AnswerEventName, type DoneData, type ResultData, type SqlData, type Usage } from '../stream/events'

/**
 * The data of each `POST /v1/ask` event, as schemas for the OpenAPI document. The stream itself is
 * typed by src/stream/events.ts (the pipeline never parses its own output); the type assertions at
 * the end of this file make the two agree at compile time, and test/openapi-events.test.ts parses
 * real streams with these schemas, strictly, so neither can drift.
 */
const text = z.strictObject({ text: z.string() })

export const SqlDataSchema = z.strictObject({
  sql: z.nullable(z.string()),
  ok: z.boolean(),
  error: z.optional(z.string()),
  checked: z.optional(z.boolean()),
  plan_rows: z.optional(z.number()),
  plan_cost: z.optional(z.number()),
  position: z.optional(z.int()),
  pg_code: z.optional(z.string()),
  repaired: z.optional(z.boolean()),
  check_error: z.optional(z.string()),
})

export const ResultDataSchema = z.strictObject({
  ok: z.boolean(),
  row_count: z.optional(z.int()),
  truncated: z.optional(z.boolean()),
  truncated_reason: z.optional(z.string()),
  elapsed_ms: z.optional(z.number()),
  code: z.optional(z.enum(RESULT_CODES)),
  error: z.optional(z.string()),
  position: z.optional(z.int()),
  pg_code: z.optional(z.string()),
})

/** `POST /v1/sql`'s 200 answer: the check of the caller's SQL and, with `execute`, what became of the run. */
export const SqlRunResponseSchema = z.strictObject({
  sql: z.string(),
  check: SqlDataSchema,
  result: z.optional(ResultDataSchema),
  columns: z.optional(z.array(z.strictObject({ name: z.string(), type: z.string() }))),
  rows: z.optional(z.array(z.array(z.unknown()))),
})

export const UsageSchema = z.strictObject({ input_tokens: z.int(), output_tokens: z.int(), total_tokens: z.int() })

export const DoneDataSchema = z.strictObject({ finish_reason: z.string(), ttft_ms: z.nullable(z.number()), total_ms: z.number() })

export const EVENT_DATA = {
  meta: z.strictObject({
    request_id: z.string(),
    model: z.string(),
    schema_version: z.string(),
    tables: z.array(z.string()),
    examples: z.optional(z.array(z.strictObject({ id: z.string(), similarity: z.number() }))),
    glossary: z.optional(z.array(z.string())),
    verified: z.optional(
      z.strictObject({
        example_id: z.string(),
        approved_at: z.nullable(z.string()),
        substituted: z.optional(z.strictObject({ column: z.string(), from: z.string(), to: z.string() })),
      }),
    ),
    verified_fallback: z.optional(z.strictObject({ example_id: z.string(), error: z.string() })),
    cached: z.optional(z.strictObject({ at: z.string(), request_id: z.string() })),
  }),
  reasoning: text,
  delta: text,
  repair: z.strictObject({ sql: z.string(), error: z.string(), position: z.optional(z.int()) }),
  unanswerable: z.strictObject({ reason: z.string(), closest_tables: z.array(z.string()), source: z.enum(['linking', 'model']) }),
  sql: SqlDataSchema,
  rows: z.strictObject({
    columns: z.optional(z.array(z.strictObject({ name: z.string(), type: z.string() }))),
    rows: z.array(z.array(z.unknown())),
    offset: z.int(),
  }),
  result: ResultDataSchema,
  summary: z.strictObject({ text: z.string(), skipped: z.optional(z.enum(['no_rows', 'run_failed', 'unanswerable'])) }),
  usage: UsageSchema,
  error: z.strictObject({ code: z.string(), message: z.string(), retryable: z.boolean() }),
  done: DoneDataSchema,
} satisfies Record<AnswerEventName, z.ZodMiniType>

/** When each event comes, for the document (docs/API.md says the same at more length). */
export const EVENT_DESCRIPTIONS: Record<AnswerEventName, string> = {
  meta: 'First, before any answer text: the request id (for feedback), the model, the schema version, the tables given to the model, the approved examples (with their similarity) and glossary terms put in its prompt — within the caller\'s role view; `verified` when an approved example\'s SQL answers without a model call (`substituted`: a value swapped), `verified_fallback` when it matched but failed its check now; `cached` when an earlier answer is replayed.',
  reasoning: "Reasoning deltas of thinking models, before the answer's text.",
  delta: 'Answer text deltas, in order, as they arrive.',
  repair: "Postgres refused the SQL (its message, and the position in the SQL from 1): the model's second attempt follows as ordinary reasoning/delta events. At most once.",
  unanswerable: 'Instead of a guess: no table matches the question well enough (`source: "linking"`, before any call to the model: only `meta` comes before it and `done` after it — with `execute`, a `result` between), or the model said the schema cannot answer it (`source: "model"`, after its text); with the reason and the closest tables. No SQL is checked or run.',
  sql: 'After the answer: its final SQL and Postgres\'s check (`checked`, `plan_rows`, `plan_cost` — absent when the plan reads a table under row-level security; or `error`, `position`, `pg_code`); `repaired` when it is the second attempt; `check_error` when the database could not be asked; `{sql: null, ok: false, error}` when the answer has none.',
  rows: 'With `execute`: result rows as arrays, SQL_ROWS_PER_EVENT per event; the first carries `columns`.',
  result:
    'With `execute`: exactly one in every ending, after the rows and before `usage`/`error`/`done` — the count and whether the rows were truncated (`truncated_reason`: which cap), or `ok: false` with `code`: `query_failed` (Postgres refused or stopped the run: `pg_code`, `position`), `execution_refused` (runs refused for the database role), or why nothing ran: `check_failed`, `unchecked` (the database could not be asked), `no_sql`, `unanswerable`, `answer_failed` (an `error` event follows).',
  summary:
    'With `summarize` (and `execute`): right after `result`, a short answer to the question in its language, from the row count, the columns and at most SUMMARY_SAMPLE_ROWS rows, as `text` deltas in order (one more DashScope call; its tokens are in `usage`). Instead, one event with empty `text` and `skipped` when there is nothing to explain: `no_rows`, `run_failed` (the result is not ok, for whatever reason), `unanswerable`.',
  usage: 'After `sql` (or the model\'s `unanswerable`, or the `result` and its `summary`), when DashScope reported usage — also before an `error` that ended the answer (the tokens spent so far); once per call: a repair adds a second.',
  error: 'A failure after the stream began: after `usage` (when known), and only `done` follows. A failure mid-answer sends no `sql`.',
  done: 'Always last, also after an error (`finish_reason: "error"`).',
}

/** Every ErrorCode, as a list the document can enumerate (checked against the union below). */
export const ERROR_CODES = [
  'invalid_json', 'invalid_request', 'invalid_glossary', 'unauthorized', 'not_found', 'method_not_allowed', 'payload_too_large',
  'unsupported_media_type', 'schema_unavailable', 'upstream_not_configured', 'upstream_throttled', 'upstream_auth_failed',
  'upstream_model_not_found', 'upstream_bad_request', 'upstream_content_rejected', 'upstream_unavailable', 'upstream_timeout',
  'upstream_disconnected', 'upstream_malformed', 'upstream_error', 'database_not_configured', 'database_unreachable',
  'database_auth_failed', 'database_permission_denied', 'database_timeout', 'database_error', 'request_not_found',
  'execute_not_allowed', 'server_misconfigured', 'internal_error', 'rate_limited', 'quota_exceeded',
  'role_not_allowed', 'auth_unavailable', 'example_sql_invalid', 'example_exists',
] as const satisfies readonly ErrorCode[]

export const ErrorBodySchema = z.strictObject({ error: z.strictObject({ code: z.enum(ERROR_CODES), message: z.string(), details: z.optional(z.array(z.unknown())) }) })

// Compile-time agreement with the types the stream is built from.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type DataOf<E extends AnswerEventName> = Extract<AnswerEvent, { event: E }>['data']
type Agree = { [E in AnswerEventName]: Equal<z.infer<(typeof EVENT_DATA)[E]>, DataOf<E>> }
const agree: Agree = { meta: true, reasoning: true, delta: true, repair: true, unanswerable: true, sql: true, rows: true, result: true, summary: true, usage: true, error: true, done: true }
const agreeParts: [Equal<z.infer<typeof SqlRunResponseSchema>, SqlRunResponse>, Equal<z.infer<typeof SqlDataSchema>, SqlData>, Equal<z.infer<typeof ResultDataSchema>, ResultData>, Equal<z.infer<typeof UsageSchema>, Usage>, Equal<z.infer<typeof DoneDataSchema>, DoneData>, Equal<(typeof ERROR_CODES)[number], ErrorCode>] = [true, true, true, true, true, true]
void agree
void agreeParts
