import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { AppError } from '../errors'
import { requireCaller } from '../middleware/auth'
import { loadCallerSnapshot } from './caller-snapshot'

export const exampleRoutes = new Hono<AppEnv>()

/** At most this many questions per call: a handful to click on, not the examples table. */
export const MAX_EXAMPLE_QUESTIONS = 20

/**
 * A few approved example questions this caller may ask: the snapshot's examples (those an admin
 * approved, as the last refresh read them) within the caller's role view — a JWT caller never sees
 * a question whose SQL names a table or column its role may not read. The playground's and
 * <txt2sql-chat>'s example buttons; on the demo database, the demo's own examples.
 */
exampleRoutes.get('/v1/examples/questions', requireCaller, async (c) => {
  const raw = c.req.query('limit') ?? '6'
  const limit = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN
  if (!(limit >= 1 && limit <= MAX_EXAMPLE_QUESTIONS)) throw new AppError(400, 'invalid_request', `"limit" must be a whole number from 1 to ${MAX_EXAMPLE_QUESTIONS}`)
  const snapshot = await loadCallerSnapshot(c)
  const questions = [...new Set(snapshot.examples.map((e) => e.question.trim()).filter(Boolean))].slice(0, limit)
  return c.json({ questions })
})
