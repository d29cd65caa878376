import { Hono } from 'hono/tiny'
import { validator } from 'hono/validator'
import * as z from 'zod/mini'
import type { AppEnv } from '../app-env'
import { ADMIN_DEADLINE_MS, withDb } from '../db/connect'
import { callerLabel } from '../auth/caller'
import { ensureExamplesTable, findExample, insertExamples } from '../db/examples-table'
import { checkExampleSql } from '../examples/check-example-sql'
import { AppError } from '../errors'
import { loadRequestRecord } from '../feedback/request-record'
import { requireCaller } from '../middleware/auth'
import { jsonBody } from '../middleware/json-body'
import '../zod-locale'

export const feedbackRoutes = new Hono<AppEnv>()

export const FeedbackSchema = z.object({
  request_id: z.string().check(z.regex(/^[0-9a-f-]{36}$/i, '"request_id" is the id from the answer\'s meta event (a UUID)')),
  correct: z.boolean({ error: '"correct" must be true or false' }),
  sql: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(20_000))),
})

/**
 * The caller says whether an answer's SQL was right (or gives the right SQL). A confirmed or
 * corrected pair becomes a pending example for an admin to review — with its check's verdict
 * (an SQL that fails is stored so a reviewer sees what people proposed, but cannot be approved
 * until it passes), who sent it and under which role; a plain "wrong" is acknowledged and stores
 * nothing.
 */
feedbackRoutes.post(
  '/v1/feedback',
  requireCaller,
  jsonBody((config) => config.maxBodyBytes),
  validator('json', (value) => {
    const parsed = FeedbackSchema.safeParse(value)
    if (!parsed.success) throw new AppError(400, 'invalid_request', parsed.error.issues[0]?.message ?? 'invalid feedback')
    return parsed.data
  }),
  async (c) => {
    const body = c.req.valid('json')
    const config = c.var.config
    if (!config.database.url) throw new AppError(503, 'database_not_configured', 'Feedback is stored in the database: set the DATABASE_URL secret')
    const record = await loadRequestRecord(c.env.SCHEMA_KV, body.request_id)
    // Someone else's request looks exactly like an unknown one.
    if (!record || record.caller !== c.var.caller.id) {
      throw new AppError(404, 'request_not_found', `No answered request ${body.request_id} for this caller (records are kept ${config.feedbackTtlSeconds} s)`)
    }
    // A wrong answer is not replayed again, anywhere: its cache entry (one Durable Object) goes.
    if (!body.correct && record.cache_key && c.env.ANSWER_CACHE) {
      const cache = c.env.ANSWER_CACHE
      await cache.get(cache.idFromName(record.cache_key)).evict()
    }
    const sql = body.sql ?? (body.correct ? record.sql : null)
    if (!sql) {
      if (body.correct) throw new AppError(400, 'invalid_request', 'That answer had no SQL to confirm: send the right one in "sql"')
      return c.json({ stored: false, example: null }, 202)
    }
    const corrected = Boolean(body.sql && body.sql !== record.sql)
    const source = corrected ? 'feedback-corrected' : 'feedback'
    // A reviewer sees what the model wrote beside the correction, so the model's SQL is kept with it.
    const model_sql = corrected ? record.sql : null
    const table = config.database.examplesTable
    const check = await checkExampleSql(config, sql)
    const caller = c.var.caller
    const sender = { sent_by: callerLabel(caller), sent_role: caller.via === 'jwt' ? caller.role : null }
    const example = await withDb(config.database, async (db) => {
      await ensureExamplesTable(db, table)
      await insertExamples(db, table, [{ question: record.question, sql, source, approved: false, request_id: body.request_id, check, model_sql, ...sender }])
      return findExample(db, table, record.question, sql)
    }, ADMIN_DEADLINE_MS)
    return c.json({ stored: true, example: example && { id: example.id, approved: example.approved, status: example.status, source: example.source, check: example.check } }, 201)
  },
)
