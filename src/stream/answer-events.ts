import type { UpstreamPart } from '../dashscope/upstream-part'
import type { ExtractedSql } from '../sql/extract-sql'
import { SqlTracker } from '../sql/sql-tracker'
import type { AnswerEvent, SqlData, StreamItem, Usage } from './events'
import { notRun } from './not-run'

export type AnswerSummary = {
  finish_reason: string
  ttft_ms: number | null
  total_ms: number
  usage: Usage | null
  error_code: string | null
  sql_ok: boolean | null
  /** The extracted SQL, when there is one. */
  sql: string | null
}

export type AnswerEventsOptions = {
  meta: Extract<AnswerEvent, { event: 'meta' }>['data']
  /** When the request arrived: ttft and total are measured from it. */
  startedAt: number
  now?: () => number
  /** Called once with the outcome, when `done` is sent. */
  onDone?: (summary: AnswerSummary) => void
  /**
   * After a complete answer, before `usage` and `done`: checks (and may repair or run) the SQL and
   * emits `sql` and what follows it. Without it, the extracted SQL is sent as it is.
   */
  afterAnswer?: (found: ExtractedSql, emit: Emit) => Promise<AfterAnswer>
  /** The tables closest to the question, named in an `unanswerable` event when the model declines. */
  closestTables?: string[]
  /** An inner answer (the repair attempt): no `meta`, and its end is reported instead of emitted. */
  inner?: (end: InnerEnd) => void
  /**
   * The caller asked for the rows: every ending sends one `result`. afterAnswer sends it when it
   * got that far (rows, or why not); an ending before it — declined, failed — gets one here.
   */
  execute?: boolean
  /**
   * The caller asked for the rows in words (with `execute`): every `result` is followed by one
   * summary. afterAnswer streams it for rows; any other ending gets a skipped one here.
   */
  summarize?: boolean
}

export type AfterAnswer = { sql: string | null; sqlOk: boolean | null; usage: Usage | null; error?: ErrorPart }
export type InnerEnd = { found: ExtractedSql | null; usage: Usage | null; error?: ErrorPart }

export type ErrorPart = Extract<UpstreamPart, { type: 'error' }>
export type Emit = (item: StreamItem) => void

/**
 * Parts → the client's events: `meta` first, deltas as they come, and after the answer ends the
 * `sql`, `usage` and `done` events. An error ends the answer with `usage` (when known), `error` and
 * `done`; so does an upstream that stops without saying it finished. Only the SQL tracker's
 * bounded tail of the text is kept.
 */
export class AnswerEvents {
  private readonly now: () => number
  private readonly sql = new SqlTracker()
  private ttft: number | null = null
  private finish: string | null = null
  private spent: Usage | null = null
  private resultSent = false
  private summarySent = false
  ended = false

  /** The tokens DashScope reported so far (this attempt's). */
  get usage(): Usage | null {
    return this.spent
  }

  constructor(private readonly opts: AnswerEventsOptions) {
    this.now = opts.now ?? Date.now
  }

  start(emit: Emit): void {
    if (!this.opts.inner) emit({ event: 'meta', data: this.opts.meta })
  }

  /** True when the end needs the asynchronous step (a complete answer and an afterAnswer). */
  get endsAsync(): boolean {
    return !this.ended && this.finish !== null && this.opts.afterAnswer !== undefined && this.opts.inner === undefined
  }

  /** Returns false once the answer has ended (an error part ends it). */
  push(part: UpstreamPart, emit: Emit): boolean {
    if (this.ended) return false
    switch (part.type) {
      case 'reasoning':
      case 'text':
        this.ttft ??= this.now() - this.opts.startedAt
        if (part.type === 'text') this.sql.push(part.text)
        else this.sql.pushReasoning(part.text)
        emit({ event: part.type === 'text' ? 'delta' : 'reasoning', data: { text: part.text } })
        return true
      case 'usage':
        this.spent = part.usage
        return true
      case 'finish':
        this.finish = part.reason
        return true
      case 'ping':
        emit({ event: 'ping' })
        return true
      case 'error':
        this.end(emit, part)
        return false
    }
  }

  /** Ends the answer; without an error, an upstream that never said it finished is one. */
  end(emit: Emit, error?: ErrorPart): void {
    if (this.ended) return
    if (!error && this.finish === null) {
      error = { type: 'error', code: 'upstream_disconnected', message: 'DashScope ended the stream before the answer finished', retryable: true }
    }
    this.ended = true
    if (this.opts.inner) {
      this.opts.inner({ found: error ? null : this.sql.result(), usage: this.usage, ...(error ? { error } : {}) })
      return
    }
    let sqlOk: boolean | null = null
    let sql: string | null = null
    if (!error) {
      const found = this.sql.result()
      if (this.declined(found, emit)) return this.close(emit, this.usage, undefined, null, null, 'unanswerable')
      sqlOk = found.ok
      sql = found.ok ? found.sql : null
      emit({ event: 'sql', data: uncheckedSqlData(found) })
    }
    this.close(emit, this.usage, error, sqlOk, sql)
  }

  /** The end of a complete answer through afterAnswer (check, repair, run); never throws. */
  async endAsync(emit: Emit): Promise<void> {
    if (this.ended) return
    this.ended = true
    let after: AfterAnswer
    const watched: Emit = (item) => {
      if (item.event === 'result') this.resultSent = true
      if (item.event === 'summary') this.summarySent = true
      emit(item)
    }
    try {
      const found = this.sql.result()
      // The model said the schema cannot answer: nothing to check, repair or run.
      if (this.declined(found, emit)) return this.close(emit, this.usage, undefined, null, null, 'unanswerable')
      after = await this.opts.afterAnswer!(found, watched)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      after = { sql: null, sqlOk: null, usage: null, error: { type: 'error', code: 'internal_error', message: `Checking the SQL failed: ${message}`, retryable: true } }
    }
    this.close(emit, addUsage(this.usage, after.usage), after.error, after.sqlOk, after.sql)
  }

  /** Emits `unanswerable` (instead of `sql`) when the model declined to answer. */
  private declined(found: ExtractedSql, emit: Emit): boolean {
    const reason = this.sql.unanswerable(found)
    if (reason === null) return false
    emit({ event: 'unanswerable', data: { reason, closest_tables: this.opts.closestTables ?? [], source: 'model' } })
    return true
  }

  private close(emit: Emit, usage: Usage | null, error: ErrorPart | undefined, sqlOk: boolean | null, sql: string | null, declined?: 'unanswerable'): void {
    // docs/API.md, "How an answer ends": `result` (when rows were asked for) → `summary` (when asked
    // for) → `usage` → `error` → `done`.
    if (this.opts.execute && !this.resultSent) {
      this.resultSent = true
      emit(declined ? notRun('unanswerable', 'the question cannot be answered from this schema') : notRun(error ? 'answer_failed' : 'no_sql', error ? `the answer ended with ${error.code}` : 'the answer has no SQL'))
    }
    if (this.opts.summarize && !this.summarySent) {
      this.summarySent = true
      emit({ event: 'summary', data: { text: '', skipped: declined ?? 'run_failed' } })
    }
    // Tokens spent are reported even when the answer failed; `error` is always right before `done`.
    if (usage) emit({ event: 'usage', data: usage })
    if (error) emit({ event: 'error', data: { code: error.code, message: error.message, retryable: error.retryable } })
    const done = { finish_reason: error ? 'error' : (this.finish ?? 'stop'), ttft_ms: this.ttft, total_ms: this.now() - this.opts.startedAt }
    emit({ event: 'done', data: done })
    this.opts.onDone?.({ ...done, usage, error_code: error?.code ?? null, sql_ok: sqlOk, sql })
  }
}

/** The `sql` event of SQL nobody checked (no database): as the model wrote it, or why there is none. */
export function uncheckedSqlData(found: ExtractedSql): SqlData {
  return found.ok ? { sql: found.sql, ok: true } : { sql: null, ok: false, error: found.error }
}

/** Both attempts' tokens, when a repair ran. */
export function addUsage(a: Usage | null, b: Usage | null): Usage | null {
  if (!a) return b
  if (!b) return a
  return { input_tokens: a.input_tokens + b.input_tokens, output_tokens: a.output_tokens + b.output_tokens, total_tokens: a.total_tokens + b.total_tokens }
}
