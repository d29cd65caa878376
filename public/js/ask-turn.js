// One question asked and its answer drawn as the events arrive: the part of a conversation that
// the playground and <txt2sql-chat> share. What surrounds it (the question box, Stop, credentials,
// history) stays with each of them; everything it needs comes in as arguments.
import { ApiError } from './api.js'

/**
 * Asks `body` through `client`, drawing each event into `view` (turn-view.js).
 * @param {object} o
 * @param {ReturnType<import('./api.js').createClient>} o.client
 * @param {ReturnType<import('./turn-view.js').turnView>} o.view
 * @param {object} o.t the view's texts
 * @param {object} o.body the /v1/ask request body
 * @param {AbortSignal} o.signal Stop
 * @param {{execute_reason?: {code: string, message: string}} | null} o.health /healthz as last read
 * @param {boolean} o.runsOff runs are off on this service: say why where the rows would be
 * @param {() => void} o.retry asks again into the same turn (offered on retryable errors)
 * @param {(err: ApiError) => void} o.onFailure draws a refusal before the stream (the caller's buttons)
 * @returns {Promise<{outcome: 'done' | 'failed' | 'stopped', answer: object}>}
 */
export async function askTurn({ client, view, t, body, signal, health, runsOff, retry, onFailure }) {
  const started = performance.now()
  const answer = { requestId: null, text: '', sql: null, sqlSeen: false, verdict: '', rows: null, error: null, done: null, approxTokens: 0 }
  const tick = setInterval(() => view.elapsed(performance.now() - started, null), 100)
  let outcome = 'done'
  view.state('streaming', t.streaming)
  try {
    await client.askStream(body, {
      signal,
      onEvent: (event, data) => {
        switch (event) {
          case 'meta':
            answer.requestId = data.request_id
            view.model(data.model)
            view.basis(data)
            break
          case 'reasoning':
            answer.approxTokens++
            view.reasoning(data.text)
            break
          case 'delta':
            answer.approxTokens++
            answer.text += data.text
            view.delta(data.text)
            break
          case 'repair':
            answer.text = ''
            view.repair(data)
            break
          case 'unanswerable':
            view.unanswerable(data)
            answer.verdict = t.cannotAnswer
            break
          case 'sql':
            answer.sqlSeen = true
            answer.sql = data.sql
            answer.verdict = view.sql(data)
            // Runs are off on this service: say why where the rows would be, instead of nothing.
            if (data.sql !== null && data.ok && runsOff && health?.execute_reason) view.noRun(health.execute_reason)
            break
          case 'rows':
            view.rows(data)
            break
          case 'result':
            answer.rows = data.ok ? (data.row_count ?? null) : null
            // A result that only says why nothing ran (check refused, no SQL, cannot answer…) adds
            // nothing to what the answer above already shows.
            if (data.ok || data.code === 'query_failed' || data.code === 'execution_refused') view.result(data, answer.requestId)
            break
          case 'summary':
            view.summary(data)
            break
          case 'usage':
            view.usage(data)
            break
          case 'error':
            answer.error = data
            view.error(new ApiError(data.code, data.message, { requestId: answer.requestId }), { retry: data.retryable ? retry : undefined })
            break
          case 'done':
            answer.done = data
            break
        }
        if (event !== 'usage') view.approxTokens(answer.approxTokens)
      },
    })
    if (answer.error) outcome = 'failed'
  } catch (err) {
    if (err?.name === 'AbortError') outcome = 'stopped'
    else {
      outcome = 'failed'
      const apiError = err instanceof ApiError ? err : new ApiError('bad_response', String(err?.message ?? err))
      apiError.requestId ??= answer.requestId
      onFailure(apiError)
    }
  } finally {
    clearInterval(tick)
    view.finish()
    view.elapsed(performance.now() - started, answer.done)
    view.state(outcome, t[outcome])
  }
  return { outcome, answer }
}

/** A refusal that a second try can get past: the network, a busy or unready service. */
export const retryable = (err) => err.status === 0 || err.status === 429 || err.status >= 500

/** The service accepts at most MAX_HISTORY_TURNS (default 10) history entries; keep whole pairs. */
const MAX_HISTORY = 10
/** History content is limited to 4 × MAX_QUESTION_CHARS (default 8000): a long answer goes as its SQL. */
const MAX_HISTORY_CONTENT = 6000

/** A finished answer joins the conversation (`history`, changed in place) the next question is asked in. */
export function rememberTurn(history, text, answer) {
  let content = answer.text.trim()
  if (content.length > MAX_HISTORY_CONTENT) content = answer.sql ? `\`\`\`sql\n${answer.sql}\n\`\`\`` : content.slice(-MAX_HISTORY_CONTENT)
  if (!content) return
  history.push({ role: 'user', content: text }, { role: 'assistant', content })
  while (history.length > MAX_HISTORY) history.splice(0, 2)
}
