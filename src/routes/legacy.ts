import type { MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { AppError } from '../errors'
import { requireCaller } from '../middleware/auth'
import { jsonBody } from '../middleware/json-body'
import { parseAskBody } from './ask-body'
import { limitCaller } from './limit-caller'
import { streamAnswer } from './stream-answer'

/**
 * `POST /getAnwser` (sic): the old Flask service's contract, so its clients keep working — the
 * answer text streamed as it comes, no SSE framing, errors as a line of text.
 */
export const legacyRoutes = new Hono<AppEnv>()

// The old service answered a missing or empty question with this line and a 200.
const NOT_UNDERSTOOD = '无法理解,请重新输入问题\n'

export const LEGACY_PATH = '/getAnwser'

/**
 * Every error on the old path is a line of text (app.ts's onError writes it): set for every
 * method, before anything that can fail — a 405, or a setting the service cannot read, too.
 */
export const legacyErrorFormat: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set('errorFormat', 'text')
  await next()
}

legacyRoutes.post(LEGACY_PATH, requireCaller, limitCaller, jsonBody((config) => config.maxBodyBytes), async (c) => {
  const json: unknown = await c.req.json()
  const question = (json as { question?: unknown } | null)?.question
  if (question === undefined || question === null || (typeof question === 'string' && question.trim() === '')) {
    c.var.log.set({ error_code: 'invalid_request' })
    return c.text(NOT_UNDERSTOOD, 200)
  }
  // The old contract is the answer text only: `summarize` is not part of it (a summary would be
  // paid for and never shown), so it is ignored as any unknown field is.
  const { summarize: _ignored, ...rest } = json as Record<string, unknown>
  const parsed = parseAskBody(rest, c.var.config)
  if (!parsed.ok) throw new AppError(400, 'invalid_request', parsed.message)
  return streamAnswer(c, parsed.body, 'legacy-text')
})
