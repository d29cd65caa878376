/** The events a client receives on `POST /v1/ask`, in the order docs/API.md gives. */
export type AnswerEvent =
  | { event: 'meta'; data: MetaData }
  | { event: 'reasoning'; data: { text: string } }
  | { event: 'delta'; data: { text: string } }
  | { event: 'repair'; data: { sql: string; error: string; position?: number } }
  | { event: 'unanswerable'; data: UnanswerableData }
  | { event: 'sql'; data: SqlData }
  | { event: 'rows'; data: { columns?: { name: string; type: string }[]; rows: unknown[][]; offset: number } }
  | { event: 'result'; data: ResultData }
  | { event: 'summary'; data: SummaryData }
  | { event: 'usage'; data: Usage }
  | { event: 'error'; data: { code: string; message: string; retryable: boolean } }
  | { event: 'done'; data: DoneData }

/**
 * First event. `tables`: the tables shown to the model; `examples` (with their similarity to the
 * question) and `glossary`: the approved examples and glossary terms put in its prompt — all within
 * the caller's role view. `verified`: answered with an approved example's SQL, no model call
 * (`substituted` when a value of the question was put in its place); `verified_fallback`: an
 * approved example matched but its SQL failed the check now, so the model answers. `cached`: a
 * replay of an earlier answer (`request_id` is that answer's), no model call.
 */
export type MetaData = {
  request_id: string
  model: string
  schema_version: string
  tables: string[]
  examples?: { id: string; similarity: number }[]
  glossary?: string[]
  verified?: { example_id: string; approved_at: string | null; substituted?: { column: string; from: string; to: string } }
  verified_fallback?: { example_id: string; error: string }
  cached?: { at: string; request_id: string }
}

/**
 * The final SQL. `checked`: Postgres planned it (with `plan_rows`, `plan_cost`); on a failed check
 * `error` is Postgres's message (`position` in the SQL, `pg_code` its SQLSTATE). `check_error`: the
 * check could not run (database unreachable) — the SQL is then unchecked. `repaired`: it is the
 * second attempt.
 */
export type SqlData = {
  sql: string | null
  ok: boolean
  error?: string
  checked?: boolean
  plan_rows?: number
  plan_cost?: number
  position?: number
  pg_code?: string
  repaired?: boolean
  check_error?: string
}

/**
 * The question cannot be answered from this schema: `source` says who decided — `linking` (no
 * table matched the question well enough; the model was not asked) or `model` (it said so). No SQL
 * is checked or run after it.
 */
export type UnanswerableData = { reason: string; closest_tables: string[]; source: 'linking' | 'model' }

/**
 * The end of a run (`"execute": true`): the count, or `ok: false` with a `code` saying why there
 * are no rows — the run failed in Postgres (`query_failed`, with `pg_code` and `position`), runs are
 * refused for the database role (`execution_refused`), or it never ran: the check refused the SQL
 * (`check_failed`), the database could not be asked (`unchecked`), the answer has no SQL
 * (`no_sql`), the question cannot be answered (`unanswerable`), the answer failed (`answer_failed`).
 */
export type ResultData = { ok: boolean; row_count?: number; truncated?: boolean; truncated_reason?: string; elapsed_ms?: number; code?: ResultCode; error?: string; position?: number; pg_code?: string }

export const RESULT_CODES = ['query_failed', 'execution_refused', 'check_failed', 'unchecked', 'no_sql', 'unanswerable', 'answer_failed'] as const
export type ResultCode = (typeof RESULT_CODES)[number]

/**
 * The rows explained in words (`"summarize": true`): `text` deltas in order, as DashScope writes
 * them; or one event with `skipped` (and empty `text`) saying why there is no summary.
 */
export type SummaryData = { text: string; skipped?: SummarySkipped }
export type SummarySkipped = 'no_rows' | 'run_failed' | 'unanswerable'

export type Usage = { input_tokens: number; output_tokens: number; total_tokens: number }
export type DoneData = { finish_reason: string; ttft_ms: number | null; total_ms: number }
export type AnswerEventName = AnswerEvent['event']

/** What flows to the encoders: the events, plus a keep-alive that SSE writes as a comment. */
export type StreamItem = AnswerEvent | { event: 'ping' }
