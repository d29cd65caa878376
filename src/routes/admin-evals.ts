import { Hono } from 'hono/tiny'
import * as z from 'zod/mini'
import type { AppEnv } from '../app-env'
import { AppError } from '../errors'
import { requireAdmin } from '../middleware/auth'
import { jsonBody } from '../middleware/json-body'
import { validJson } from '../middleware/valid-json'
import '../zod-locale'

/**
 * Stored `eval:live --approved` reports (docs/EVAL.md): accuracy on the team's own approved
 * examples over time, each miss with its reason. Kept in SCHEMA_KV, one key per report, newest
 * listed first; a report is written once and read by the console, so KV's eventual consistency
 * (a new report seen within a minute everywhere) costs nothing here.
 */
export const adminEvalRoutes = new Hono<AppEnv>()

adminEvalRoutes.use('/v1/admin/evals', requireAdmin)

const REASONS = ['sql_error', 'refused', 'unanswerable', 'empty_result', 'missing_rows', 'extra_rows', 'wrong_values', 'column_mismatch'] as const
const Rows = z.array(z.array(z.unknown())).check(z.maxLength(20))

export const EvalReportSchema = z.object({
  at: z.string().check(z.regex(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/, '"at" is an ISO 8601 UTC time')),
  model: z.string().check(z.minLength(1), z.maxLength(128)),
  /** The role asked as (`--token`), or null for the service's own. */
  role: z.optional(z.nullable(z.string().check(z.maxLength(63)))),
  total: z.int().check(z.nonnegative()),
  hits: z.int().check(z.nonnegative()),
  accuracy: z.number().check(z.gte(0), z.lte(100)),
  // The reasons that occurred (a report need not list a reason no miss had).
  misses_by_reason: z.partialRecord(z.enum(REASONS), z.int().check(z.nonnegative())),
  misses: z
    .array(
      z.object({
        example_id: z.string(),
        question: z.string(),
        gold_sql: z.string(),
        answer_sql: z.nullable(z.string()),
        reason: z.enum(REASONS),
        detail: z.optional(z.string()),
        gold_rows: Rows,
        answer_rows: Rows,
      }),
    )
    .check(z.maxLength(10_000)),
})

export type EvalReport = z.infer<typeof EvalReportSchema>

const PREFIX = 'eval:'

adminEvalRoutes.post('/v1/admin/evals', jsonBody((config) => config.maxSnapshotBytes), validJson(EvalReportSchema, 'eval report'), async (c) => {
  const report = c.req.valid('json')
  if (report.hits > report.total) throw new AppError(400, 'invalid_request', 'Invalid eval report: "hits" exceeds "total"')
  // Keys sort by time: an inverted timestamp lists the newest first.
  const id = `${(9e15 - Date.parse(report.at)).toString().padStart(16, '0')}-${crypto.randomUUID().slice(0, 8)}`
  await c.env.SCHEMA_KV.put(PREFIX + id, JSON.stringify({ id, ...report, stored_by: c.var.admin?.id ?? 'admin-token' }))
  return c.json({ id }, 201)
})

adminEvalRoutes.get('/v1/admin/evals', async (c) => {
  const raw = c.req.query('limit')
  const limit = raw === undefined ? 20 : Number(raw)
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new AppError(400, 'invalid_request', '"limit" must be an integer from 1 to 100')
  const keys = await c.env.SCHEMA_KV.list({ prefix: PREFIX, limit })
  const reports = await Promise.all(keys.keys.map(async (k) => JSON.parse((await c.env.SCHEMA_KV.get(k.name)) ?? 'null') as EvalReport | null))
  return c.json({ reports: reports.filter((r) => r !== null) })
})
