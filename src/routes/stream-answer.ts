import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import { answerQuestion } from '../answer/answer-question'
import { loadSnapshot } from '../schema/snapshot-store'
import type { AskBody } from './ask-body'

/** Shared by `/v1/ask` and `/getAnwser`: the only place the answer path reads bindings. */
export async function streamAnswer(c: Context<AppEnv>, body: AskBody, format: 'sse' | 'legacy-text'): Promise<Response> {
  const config = c.var.config
  c.var.log.set({ question_chars: body.question.length, ...(config.logQuestions ? { question: body.question } : {}) })
  const snapshot = await loadSnapshot(c.env.SCHEMA_KV, { cacheTtlSeconds: config.schemaCacheTtlSeconds })
  const stream = await answerQuestion({
    body,
    config,
    snapshot,
    requestId: c.var.requestId,
    startedAt: c.var.startedAt,
    fetch: (input, init) => fetch(input, init),
    log: c.var.log,
    format,
  })
  // text/event-stream for both: the old service used it too, and proxies then do not buffer.
  return c.body(stream, 200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  })
}
