import type { DbIdentity } from '../db/guarded-sql'
import type { Config } from '../config'
import type { ChatMessage } from '../dashscope/build-request'
import { withDb } from '../db/connect'
import { checkAndRun, type SqlCheck, type SqlRun } from '../db/guarded-sql'
import { toAppError } from '../errors'
import type { RequestLogFields } from '../request-log'
import type { ExtractedSql } from '../sql/extract-sql'
import type { AfterAnswer, Emit, ErrorPart, InnerEnd } from '../stream/answer-events'
import type { SqlData } from '../stream/events'
import { notRun } from '../stream/not-run'

export type VerifyInput = {
  config: Config
  /** The caller asked for the rows (already allowed by config). */
  execute: boolean
  /** The first attempt's prompt, for the repair round. */
  messages: ChatMessage[]
  /** Streams a second answer into the same response (its deltas via `emit`); resolves at its end. */
  streamRepair: (messages: ChatMessage[], emit: Emit) => Promise<InnerEnd>
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
  let outcome = await guard(sql, input)
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
      outcome = await guard(sql, input)
    }
  }
  const data = sqlData(sql, outcome, repaired)
  input.audit?.(auditFields(outcome))
  emit({ event: 'sql', data })
  if (input.execute) emitRun(outcome, emit, input.config.sql.rowsPerEvent)
  return { sql, sqlOk: data.ok, usage }
}

/** Round trips of a check beyond its statements' own timeouts: connect is bounded separately. */
const SESSION_GRACE_MS = 2000

type Guarded = { check: SqlCheck; run?: SqlRun; relations: string[] } | { unavailable: string }

async function guard(sql: string, input: VerifyInput): Promise<Guarded> {
  const { config } = input
  try {
    return await withDb({ ...config.database, url: config.sql.url }, (db) =>
      checkAndRun(db, sql, {
        schemas: config.database.schemas,
        checkTimeoutMs: config.sql.checkTimeoutMs,
        executeTimeoutMs: config.sql.executeTimeoutMs,
        maxRows: config.sql.maxRows,
        maxBytes: config.sql.maxResultBytes,
        execute: input.execute,
        ...(input.as ? { as: input.as } : {}),
      }),
      // Postgres bounds each statement; this bounds a server that stops answering altogether.
      config.sql.checkTimeoutMs + (input.execute ? config.sql.executeTimeoutMs : 0) + SESSION_GRACE_MS,
    )
  } catch (err) {
    // The database could not be asked: the SQL goes out unchecked, and says so.
    const e = toAppError(err)
    return { unavailable: `${e.code}: ${e.message}` }
  }
}

/** What the audit keeps of a check: its verdict, what the plan reads, how many rows were sent. */
function auditFields(outcome: Guarded): Partial<RequestLogFields> {
  if ('unavailable' in outcome) return { sql_check: 'unavailable' }
  const { check, run, relations } = outcome
  return {
    sql_check: check.ok ? 'passed' : 'refused',
    ...(check.ok ? {} : { sql_refusal: check.pg_code ?? 'plan_guard' }),
    relations,
    ...(run ? { rows: run.ok ? run.rows.length : null } : {}),
  }
}

function sqlData(sql: string, outcome: Guarded, repaired: boolean): SqlData {
  const extra = repaired ? { repaired: true } : {}
  if ('unavailable' in outcome) return { sql, ok: true, checked: false, check_error: outcome.unavailable, ...extra }
  const c = outcome.check
  if (c.ok) return { sql, ok: true, checked: true, plan_rows: c.plan_rows, plan_cost: c.plan_cost, ...extra }
  return { sql, ok: false, checked: true, error: c.error, ...(c.position ? { position: c.position } : {}), ...(c.pg_code ? { pg_code: c.pg_code } : {}), ...extra }
}

/** The rows and the `result` of a caller who asked for them — or the one `result` saying why there are none. */
function emitRun(outcome: Guarded, emit: Emit, perEvent: number): void {
  if ('unavailable' in outcome) return emit(notRun('unchecked', `the SQL could not be checked: ${outcome.unavailable}`))
  if (!outcome.check.ok) return emit(notRun('check_failed', `the check refused the SQL: ${outcome.check.error}`))
  const run = outcome.run
  if (!run) return emit(notRun('check_failed', 'the SQL was checked but not run'))
  if ('refused' in run) return emit({ event: 'result', data: { ok: false, code: 'execution_refused', error: run.error } })
  if (!run.ok) {
    emit({ event: 'result', data: { ok: false, code: 'query_failed', error: run.error, ...(run.position ? { position: run.position } : {}), ...(run.pg_code ? { pg_code: run.pg_code } : {}) } })
    return
  }
  for (let offset = 0; offset < run.rows.length || offset === 0; offset += perEvent) {
    emit({ event: 'rows', data: { ...(offset === 0 ? { columns: run.columns } : {}), rows: run.rows.slice(offset, offset + perEvent), offset } })
    if (run.rows.length === 0) break
  }
  emit({ event: 'result', data: { ok: true, row_count: run.rows.length, truncated: run.truncated, elapsed_ms: run.elapsed_ms } })
}

/** The second round: the failing SQL as the model's turn, Postgres's error as the user's. */
export function repairMessages(messages: ChatMessage[], sql: string, failed: { error: string; position?: number }): ChatMessage[] {
  const where = failed.position ? `（出错位置：第 ${failed.position} 个字符附近）` : ''
  return [
    ...messages,
    { role: 'assistant', content: '```sql\n' + sql + '\n```' },
    {
      role: 'user',
      content: `PostgreSQL 检查这条 SQL 时报错：${failed.error}${where}。请找出原因并改正：先用一两句话说明，然后只给出一个改正后的 \`\`\`sql 代码块。`,
    },
  ]
}

export type { ErrorPart }
