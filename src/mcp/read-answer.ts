import { EventSourceParserStream } from 'eventsource-parser/stream'
import type { AnswerEvent } from '../stream/events'
import type { AskOutcome } from './tools'

/** Progress lines are sent at most this often while the answer text streams. */
const TEXT_PROGRESS_EVERY_CHARS = 200

/**
 * Reads one `/v1/ask` answer (its SSE body) to the end into what an assistant needs: the reading,
 * the checked SQL, at most `maxRows` rows, the summary, usage. Each step is reported through
 * `progress` as it arrives. `signal` cancels the body, which cancels the answer and its DashScope
 * call, exactly as a client that closes its connection.
 */
export async function readAnswer(body: ReadableStream<Uint8Array>, maxRows: number, progress: (message: string) => void, signal: AbortSignal): Promise<AskOutcome> {
  const outcome: AskOutcome = { answer: '' }
  const reader = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader()
  const cancel = () => void reader.cancel(signal.reason).catch(() => {})
  signal.addEventListener('abort', cancel, { once: true })
  let reported = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      const event = { event: value.event, data: JSON.parse(value.data) } as AnswerEvent
      const line = apply(outcome, event, maxRows)
      if (line) progress(line)
      if (event.event === 'delta' && outcome.answer.length - reported >= TEXT_PROGRESS_EVERY_CHARS) {
        reported = outcome.answer.length
        progress(`writing the answer (${reported} characters)`)
      }
    }
  } finally {
    signal.removeEventListener('abort', cancel)
  }
  if (signal.aborted) throw signal.reason
  if (outcome.result?.ok && outcome.rows && outcome.rows.length > maxRows) outcome.rows = outcome.rows.slice(0, maxRows)
  return outcome
}

/** Folds one event into the outcome; returns the progress line it deserves, if any. */
function apply(o: AskOutcome, e: AnswerEvent, maxRows: number): string | undefined {
  switch (e.event) {
    case 'meta':
      Object.assign(o, { request_id: e.data.request_id, model: e.data.model, schema_version: e.data.schema_version, tables: e.data.tables })
      return e.data.tables.length ? `reading the question against ${e.data.tables.join(', ')}` : 'reading the question'
    case 'reasoning':
      return undefined
    case 'delta':
      o.answer += e.data.text
      return undefined
    case 'repair':
      return `Postgres refused the first SQL (${e.data.error}); repairing it`
    case 'unanswerable':
      o.unanswerable = e.data
      return 'the schema cannot answer this question'
    case 'sql':
      o.sql = e.data
      return !e.data.sql ? 'no SQL in the answer' : e.data.ok ? (e.data.checked ? 'SQL checked by Postgres' : 'SQL written (not checked)') : `Postgres refused the SQL: ${e.data.error}`
    case 'rows':
      if (e.data.columns) o.columns = e.data.columns
      // Keep one row more than shown, so the outcome can say the rows were cut.
      if ((o.rows ??= []).length <= maxRows) o.rows.push(...e.data.rows.slice(0, maxRows + 1 - o.rows.length))
      return undefined
    case 'result':
      o.result = e.data
      return e.data.ok ? `${e.data.row_count} rows` : `the run failed: ${e.data.error}`
    case 'summary':
      if (e.data.skipped) o.summary_skipped = e.data.skipped
      else o.summary = (o.summary ?? '') + e.data.text
      return undefined
    case 'usage':
      o.usage = e.data
      return undefined
    case 'error':
      o.error = { code: e.data.code, message: e.data.message, retryable: e.data.retryable }
      return `error: ${e.data.message}`
    default:
      return undefined
  }
}
