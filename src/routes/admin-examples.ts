import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { ADMIN_DEADLINE_MS, withDb } from '../db/connect'
import { deleteExample, ensureExamplesTable, insertExamples, listExamples, setApproved } from '../db/examples-table'
import { AppError } from '../errors'
import { parseExamplesCsv, parseExamplesJson } from '../examples/example-input'
import { requireAdmin } from '../middleware/auth'
import { acceptBody, mediaType } from '../middleware/json-body'
import { refreshAfterWrite, wantsRefresh } from './admin'

/** Question→SQL examples in the database: import, review, approve. */
export const adminExampleRoutes = new Hono<AppEnv>()

adminExampleRoutes.use('/v1/admin/examples', requireAdmin)
adminExampleRoutes.use('/v1/admin/examples/*', requireAdmin)

adminExampleRoutes.post('/v1/admin/examples', acceptBody((config) => config.maxSnapshotBytes, ['json', 'csv']), async (c) => {
  const parsed = mediaType(c.req.header('content-type')) === 'csv' ? parseExamplesCsv(await c.req.text()) : parseExamplesJson(await c.req.json())
  if (!parsed.ok) throw new AppError(400, 'invalid_request', `Invalid examples: ${parsed.error}`)
  const table = c.var.config.database.examplesTable
  const result = await withDb(c.var.config.database, async (db) => {
    await ensureExamplesTable(db, table)
    // An admin's import is approved unless it says otherwise.
    return insertExamples(db, table, parsed.pairs.map((p) => ({ question: p.question, sql: p.sql, source: 'admin', approved: p.approved ?? true })))
  }, ADMIN_DEADLINE_MS)
  const refresh = wantsRefresh(c.req.query('refresh')) ? await refreshAfterWrite(c.env.SCHEMA_KV, c.var.config, 'examples', c.env.ASSETS) : null
  return c.json({ received: parsed.pairs.length, inserted: result.inserted, duplicates: parsed.pairs.length - result.inserted, ids: result.ids, refresh }, 201)
})

adminExampleRoutes.get('/v1/admin/examples', async (c) => {
  const status = c.req.query('status') ?? 'pending'
  if (status !== 'pending' && status !== 'approved' && status !== 'all') throw new AppError(400, 'invalid_request', '"status" is pending, approved or all')
  const limit = boundedInt(c.req.query('limit'), 100, 1, 1000, 'limit')
  const offset = boundedInt(c.req.query('offset'), 0, 0, Number.MAX_SAFE_INTEGER, 'offset')
  const result = await withDb(c.var.config.database, (db) => listExamples(db, c.var.config.database.examplesTable, { status, limit, offset }), ADMIN_DEADLINE_MS)
  return c.json({ ...result, limit, offset })
})

for (const [action, approved] of [['approve', true], ['unapprove', false]] as const) {
  adminExampleRoutes.post(`/v1/admin/examples/:id/${action}`, async (c) => {
    const id = exampleId(c.req.param('id'))
    const example = await withDb(c.var.config.database, (db) => setApproved(db, c.var.config.database.examplesTable, id, approved), ADMIN_DEADLINE_MS)
    if (!example) throw new AppError(404, 'not_found', `No example ${id}`)
    const refresh = wantsRefresh(c.req.query('refresh')) ? await refreshAfterWrite(c.env.SCHEMA_KV, c.var.config, 'examples', c.env.ASSETS) : null
    return c.json({ example, refresh })
  })
}

adminExampleRoutes.delete('/v1/admin/examples/:id', async (c) => {
  const id = exampleId(c.req.param('id'))
  const deleted = await withDb(c.var.config.database, (db) => deleteExample(db, c.var.config.database.examplesTable, id), ADMIN_DEADLINE_MS)
  if (!deleted) throw new AppError(404, 'not_found', `No example ${id}`)
  return c.json({ deleted: id })
})

function exampleId(raw: string): string {
  if (!/^[1-9][0-9]{0,17}$/.test(raw)) throw new AppError(400, 'invalid_request', 'An example id is a positive integer')
  return raw
}

function boundedInt(raw: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw new AppError(400, 'invalid_request', `"${name}" must be an integer from ${min} to ${max}`)
  return n
}
