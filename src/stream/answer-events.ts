import type { UpstreamPart } from '../dashscope/upstream-part'
import { SqlTracker } from '../sql/sql-tracker'
import type { AnswerEvent, StreamItem, Usage } from './events'

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
}

export type ErrorPart = Extract<UpstreamPart, { type: 'error' }>
type Emit = (item: StreamItem) => void

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
  private usage: Usage | null = null
  ended = false

  constructor(private readonly opts: AnswerEventsOptions) {
    this.now = opts.now ?? Date.now
  }

  start(emit: Emit): void {
    emit({ event: 'meta', data: this.opts.meta })
  }

  /** Returns false once the answer has ended (an error part ends it). */
  push(part: UpstreamPart, emit: Emit): boolean {
    if (this.ended) return false
    switch (part.type) {
      case 'reasoning':
      case 'text':
        this.ttft ??= this.now() - this.opts.startedAt
        if (part.type === 'text') this.sql.push(part.text)
        emit({ event: part.type === 'text' ? 'delta' : 'reasoning', data: { text: part.text } })
        return true
      case 'usage':
        this.usage = part.usage
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
    let sqlOk: boolean | null = null
    let sql: string | null = null
    if (!error) {
      const found = this.sql.result()
      sqlOk = found.ok
      sql = found.ok ? found.sql : null
      emit({ event: 'sql', data: found.ok ? { sql: found.sql, ok: true } : { sql: null, ok: false, error: found.error } })
    }
    // Tokens spent are reported even when the answer failed; `error` is always right before `done`.
    if (this.usage) emit({ event: 'usage', data: this.usage })
    if (error) emit({ event: 'error', data: { code: error.code, message: error.message, retryable: error.retryable } })
    const done = { finish_reason: error ? 'error' : (this.finish ?? 'stop'), ttft_ms: this.ttft, total_ms: this.now() - this.opts.startedAt }
    emit({ event: 'done', data: done })
    this.opts.onDone?.({ ...done, usage: this.usage, error_code: error?.code ?? null, sql_ok: sqlOk, sql })
  }
}
