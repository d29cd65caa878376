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
}

export type AnswerEventsOptions = {
  meta: Extract<AnswerEvent, { event: 'meta' }>['data']
  /** When the request arrived: ttft and total are measured from it. */
  startedAt: number
  now?: () => number
  /** Called once with the outcome, when `done` is sent. */
  onDone?: (summary: AnswerSummary) => void
}

/**
 * Parts → the client's events: `meta` first, deltas as they come, and after the answer ends the
 * `sql`, `usage` and `done` events. An upstream error ends the answer with `error` + `done`; so does
 * an upstream that stops without saying it finished. Only the SQL tracker's bounded tail is kept.
 */
export class AnswerEventStream extends TransformStream<UpstreamPart, StreamItem> {
  constructor(opts: AnswerEventsOptions) {
    const now = opts.now ?? Date.now
    const sql = new SqlTracker()
    let ttft: number | null = null
    let finish: string | null = null
    let usage: Usage | null = null
    let ended = false

    const end = (controller: TransformStreamDefaultController<StreamItem>, error?: Extract<UpstreamPart, { type: 'error' }>) => {
      ended = true
      let sqlOk: boolean | null = null
      if (!error) {
        const found = sql.result()
        sqlOk = found.ok
        controller.enqueue({ event: 'sql', data: found.ok ? { sql: found.sql, ok: true } : { sql: null, ok: false, error: found.error } })
      }
      // Tokens spent are reported even when the answer failed; `error` is always right before `done`.
      if (usage) controller.enqueue({ event: 'usage', data: usage })
      if (error) controller.enqueue({ event: 'error', data: { code: error.code, message: error.message, retryable: error.retryable } })
      const done = { finish_reason: error ? 'error' : (finish ?? 'stop'), ttft_ms: ttft, total_ms: now() - opts.startedAt }
      controller.enqueue({ event: 'done', data: done })
      opts.onDone?.({ ...done, usage, error_code: error?.code ?? null, sql_ok: sqlOk })
    }

    super({
      start(controller) {
        controller.enqueue({ event: 'meta', data: opts.meta })
      },
      transform(part, controller) {
        if (ended) return
        switch (part.type) {
          case 'reasoning':
          case 'text':
            ttft ??= now() - opts.startedAt
            if (part.type === 'text') sql.push(part.text)
            controller.enqueue({ event: part.type === 'text' ? 'delta' : 'reasoning', data: { text: part.text } })
            return
          case 'usage':
            usage = part.usage
            return
          case 'finish':
            finish = part.reason
            return
          case 'ping':
            controller.enqueue({ event: 'ping' })
            return
          case 'error':
            end(controller, part)
            // Stop reading: terminate() cancels everything upstream of us, down to the fetch.
            controller.terminate()
            return
        }
      },
      flush(controller) {
        if (ended) return
        if (finish === null) {
          return end(controller, {
            type: 'error',
            code: 'upstream_disconnected',
            message: 'DashScope ended the stream before the answer finished',
            retryable: true,
          })
        }
        end(controller)
      },
    })
  }
}
