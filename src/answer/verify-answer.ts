import type { Config } from '../config'
import type { ChatMessage } from '../dashscope/build-request'
import type { DbIdentity, SqlRows } from '../db/guarded-sql'
import type { RequestLogFields } from '../request-log'
import { guardSql, type Guarded } from './guard-sql'
import type { ExtractedSql } from '../sql/extract-sql'
import { addUsage, type AfterAnswer, type Emit, type ErrorPart, type InnerEnd } from '../stream/answer-events'
import { buildSummaryPrompt } from '../prompt/build-summary-prompt'
import type { ResultData, SqlData } from '../stream/events'
import { toAppError } from '../errors'
import { notRun } from '../stream/not-run'

export type VerifyInput = {
  config: Config
  /** The caller asked for the rows (already allowed by config). */
  execute: boolean
  /** The first attempt's prompt, for the repair round. */
  messages: ChatMessage[]
  /** Streams a second answer into the same response (its deltas via `emit`); resolves at its end. */
  streamRepair: (messages: ChatMessage[], emit: Emit) => Promise<InnerEnd>
  /** The caller asked for the rows explained in words (`summarize`, with `execute`). */
  summarize?: { question: string; stream: (messages: ChatMessage[], emit: Emit) => Promise<InnerEnd> }
  /** A JWT caller's role and claims: the check and the run happen as that role. */
  as?: DbIdentity
  /** Receives the audit fields of the final SQL (the request log line). */
  audit?: (fields: Partial<RequestLogFields>) => void
}

/**
 * What happens after the model's answer ends: the SQL is checked by Postgres (read-only, under
 * timeouts, plan inspected), repaired once if Postgres refuses it, run when asked, and reported as
 * `sql` (+ `rows` batches and `result`). The caller then sends `usage` (both attempts) and `done`.
 */
export async function verifyAnswer(found: ExtractedSql, emit: Emit, input: VerifyInput): Promise<AfterAnswer> {
  if (!found.ok) {
    // No SQL and no refusal (refusals became `unanswerable` before this): reported, not an error.
    emit({ event: 'sql', data: { sql: null, ok: false, error: found.error } })
    if (input.execute) emit(notRun('no_sql', 'the answer has no SQL'))
    return { sql: null, sqlOk: false, usage: null }
  }
  let sql = found.sql
  let outcome = await guarded(sql, input)
  let repaired = false
  let usage: AfterAnswer['usage'] = null
  if ('check' in outcome && !outcome.check.ok && input.config.sql.repair) {
    const failed = outcome.check
    emit({ event: 'repair', data: { sql, error: failed.error, ...(failed.position ? { position: failed.position } : {}) } })
    const second = await input.streamRepair(repairMessages(input.messages, sql, failed), emit)
    usage = second.usage
    if (second.error) {
      emit({ event: 'sql', data: sqlData(sql, outcome, false) })
      if (input.execute) emitRun(outcome, emit, input.config.sql.rowsPerEvent)
      return { sql, sqlOk: false, usage, error: second.error }
    }
    if (second.found?.ok) {
      sql = second.found.sql
      repaired = true
      outcome = await guarded(sql, input)
    }
  }
  const after = await reportOutcome(sql, outcome, repaired, emit, input)
  return { ...after, usage: addUsage(usage, after.usage) }
}

/**
 * The end of a checked SQL: the audit, the `sql` event, the rows and `result` when asked, and the
 * summary of rows when asked. Also the end of a verified answer, whose SQL was checked up front.
 */
export async function reportOutcome(sql: string, outcome: Guarded, repaired: boolean, emit: Emit, input: Pick<VerifyInput, 'config' | 'execute' | 'summarize' | 'audit'>): Promise<AfterAnswer> {
  const data = sqlData(sql, outcome, repaired)
  input.audit?.(auditFields(outcome))
  emit({ event: 'sql', data })
  if (input.execute) emitRun(outcome, emit, input.config.sql.rowsPerEvent)
  const run = 'run' in outcome ? outcome.run : undefined
  // Only rows get a summary; every other ending's skipped summary follows its `result` in
  // AnswerEvents.close, as for the endings that never reach this point.
  if (!input.summarize || !run?.ok) return { sql, sqlOk: data.ok, usage: null }
  const summary = await summarizeRun(sql, run, emit, input.summarize, input.config.summarySampleRows)
  return { sql, sqlOk: data.ok, usage: summary.usage, ...(summary.error ? { error: summary.error } : {}) }
}

/**
 * After an ok `result`: the rows explained in words by one more DashScope call, streamed as
 * `summary` text — or, with no rows to explain, one `summary` saying so.
 */
async function summarizeRun(sql: string, run: SqlRows, emit: Emit, summarize: NonNullable<VerifyInput['summarize']>, sampleRows: number): Promise<InnerEnd> {
  if (run.rows.length === 0) {
    emit({ event: 'summary', data: { text: '', skipped: 'no_rows' } })
    return { found: null, usage: null }
  }
  const messages = buildSummaryPrompt({ question: summarize.question, sql, columns: run.columns, rows: run.rows, truncated: run.truncated, sampleRows })
  // Only the text is the summary; a thinking model's reasoning is not shown.
  return summarize.stream(messages, (item) => {
    if (item.event === 'delta') emit({ event: 'summary', data: { text: item.data.text } })
    else if (item.event === 'ping') emit(item)
  })
}

/** The database could not be asked: the SQL goes out unchecked, and says so. */
async function guarded(sql: string, input: VerifyInput): Promise<Guarded> {
  try {
    return await guardSql(input.config, sql, input.execute, input.as)
  } catch (err) {
    const e = toAppError(err)
    return { unavailable: `${e.code}: ${e.message}` }
  }
}

/**
 * What the audit keeps of a check: its verdict and rule, what the plan reads, how many rows were
 * sent — the same fields for /v1/ask, /v1/sql and MCP (whose tools are those routes).
 */
export function auditFields(outcome: Guarded): Partial<RequestLogFields> {
  if ('unavailable' in outcome) return { sql_check: 'unavailable' }
  const { check, run, relations } = outcome
  return {
    sql_check: check.ok ? 'passed' : 'refused',
    ...(check.ok ? {} : { sql_refusal: check.rule ?? check.pg_code ?? 'plan_guard' }),
    relations,
    ...(run ? { rows: run.ok ? run.rows.length : null } : {}),
  }
}

export function sqlData(sql: string, outcome: Guarded, repaired: boolean): SqlData {
  const extra = repaired ? { repaired: true } : {}
  if ('unavailable' in outcome) return { sql, ok: true, checked: false, check_error: outcome.unavailable, ...extra }
  const c = outcome.check
  // No figures when the plan reads a table under row-level security (guarded-sql.ts).
  if (c.ok) return { sql, ok: true, checked: true, ...(c.plan_rows !== undefined ? { plan_rows: c.plan_rows, plan_cost: c.plan_cost } : {}), ...extra }
  return { sql, ok: false, checked: true, error: c.error, ...(c.position ? { position: c.position } : {}), ...(c.pg_code ? { pg_code: c.pg_code } : {}), ...extra }
}

/** The rows and the `result` of a caller who asked for them — or the one `result` saying why there are none. */
function emitRun(outcome: Guarded, emit: Emit, perEvent: number): void {
  const run = 'run' in outcome ? outcome.run : undefined
  if (run?.ok) {
    for (let offset = 0; offset < run.rows.length || offset === 0; offset += perEvent) {
      emit({ event: 'rows', data: { ...(offset === 0 ? { columns: run.columns } : {}), rows: run.rows.slice(offset, offset + perEvent), offset } })
      if (run.rows.length === 0) break
    }
  }
  emit({ event: 'result', data: resultOf(outcome) })
}

/** What became of a run that was asked for: its count, or why there are no rows (`code`). */
export function resultOf(outcome: Guarded): ResultData {
  if ('unavailable' in outcome) return notRun('unchecked', `the SQL could not be checked: ${outcome.unavailable}`).data
  if (!outcome.check.ok) return notRun('check_failed', `the check refused the SQL: ${outcome.check.error}`).data
  const run = outcome.run
  if (!run) return notRun('check_failed', 'the SQL was checked but not run').data
  if ('refused' in run) return { ok: false, code: 'execution_refused', error: run.error }
  if (!run.ok) return { ok: false, code: 'query_failed', error: run.error, ...(run.position ? { position: run.position } : {}), ...(run.pg_code ? { pg_code: run.pg_code } : {}) }
  return { ok: true, row_count: run.rows.length, truncated: run.truncated, ...(run.truncated_reason ? { truncated_reason: run.truncated_reason } : {}), elapsed_ms: run.elapsed_ms }
}

/** The second round: the failing SQL as the model's turn, Postgres's error as the user's. */
export function repairMessages(messages: ChatMessage[], sql: string, failed: { error: string; position?: number }): ChatMessage[] {
  const where = failed.position ? `（出错位置：第 ${failed.position} 个字符附近）` : ''
  return [
    ...messages,
    { role: 'assistant', content: '```sql\n' + sql + '\n```' },
    {
      role: 'user',
      content: `PostgreSQL 检查这条 SQL 时报错：${failed.error}${where}。请找出原因并改正：先用一两句话说明，然后只给出一个改正后的 sql 代码块。`,
    },
  ]
}

export type { ErrorPart }
