import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { ADMIN_DEADLINE_MS, withDb } from '../db/connect'
import {
  approveExample,
  deleteExample,
  editExample,
  ensureExamplesTable,
  getExample,
  insertExamples,
  listExamples,
  rejectExample,
  unapproveExample,
  type ExampleStatus,
  type StoredExample,
} from '../db/examples-table'
import { AppError } from '../errors'
import { checkExampleSql, checkExampleSqls } from '../examples/check-example-sql'
import { BulkSchema, EditSchema, parseExamplesCsv, parseExamplesJson, RejectSchema } from '../examples/example-input'
import { describeFirstIssue } from '../first-issue'
import { requireAdmin } from '../middleware/auth'
import { acceptBody, jsonBody, mediaType } from '../middleware/json-body'
import { validJson } from '../middleware/valid-json'
import { refreshAfterWrite, wantsRefresh } from './admin'

/**
 * Question→SQL examples in the database: import, review, edit, approve, reject. Every SQL that is
 * stored goes through the same check as the model's (src/examples/check-example-sql.ts) and keeps
 * its verdict; every change records who made it (`c.var.admin`, set by the admin auth). Each route
 * takes `?refresh=true`: the snapshot — what prompts and verified answers read — is refreshed
 * after the change; otherwise the change reaches prompts at the next refresh (cron or admin).
 */
export const adminExampleRoutes = new Hono<AppEnv>()

adminExampleRoutes.use('/v1/admin/examples', requireAdmin)
adminExampleRoutes.use('/v1/admin/examples/*', requireAdmin)
adminExampleRoutes.use('/v1/admin/examples-bulk', requireAdmin)

type Ctx = Context<AppEnv>
const actor = (c: Ctx) => c.var.admin?.id ?? 'admin-token'
const table = (c: Ctx) => c.var.config.database.examplesTable
const db = <T>(c: Ctx, work: Parameters<typeof withDb<T>>[1]) => withDb(c.var.config.database, work, ADMIN_DEADLINE_MS)
const refreshIfAsked = (c: Ctx) => (wantsRefresh(c.req.query('refresh')) ? refreshAfterWrite(c.env.SCHEMA_KV, c.var.config, 'examples', c.env.ASSETS) : Promise.resolve(null))

adminExampleRoutes.post('/v1/admin/examples', acceptBody((config) => config.maxSnapshotBytes, ['json', 'csv']), async (c) => {
  const csv = mediaType(c.req.header('content-type')) === 'csv'
  const parsed = csv ? parseExamplesCsv(await c.req.text()) : parseExamplesJson(await c.req.json())
  if (!parsed.ok) throw new AppError(400, 'invalid_request', `Invalid examples: ${parsed.error}`)
  requireDatabase(c)
  // Checked before anything is stored: an import is all or nothing, and its refusal names each
  // failing line (CSV: its row, the header being row 1; JSON: the pair's index) and why.
  const checks = await checkExampleSqls(c.var.config, parsed.pairs.map((p) => p.sql))
  const failing = checks.flatMap((check, i) => (check.ok ? [] : [{ at: csv ? `row ${i + 2}` : `examples.${i}`, sql: parsed.pairs[i]!.sql, error: check.error }]))
  if (failing.length) {
    const shown = failing.slice(0, 5).map((f) => `${f.at}: ${f.error}`).join('; ')
    throw new AppError(400, 'example_sql_invalid', `Invalid examples: ${failing.length} SQL failed the check (${shown}${failing.length > 5 ? '; …' : ''})`, { details: failing })
  }
  const by = actor(c)
  const result = await db(c, async (session) => {
    await ensureExamplesTable(session, table(c))
    // An admin's import is approved unless it says otherwise.
    return insertExamples(
      session,
      table(c),
      parsed.pairs.map((p) => ({ question: p.question, sql: p.sql, source: 'admin', approved: p.approved ?? true, check: { ok: true }, sent_by: by, approved_by: by })),
    )
  })
  return c.json({ received: parsed.pairs.length, inserted: result.inserted, duplicates: parsed.pairs.length - result.inserted, ids: result.ids, refresh: await refreshIfAsked(c) }, 201)
})

const STATUSES = ['pending', 'approved', 'rejected', 'all'] as const

adminExampleRoutes.get('/v1/admin/examples', async (c) => {
  const status = (c.req.query('status') ?? 'pending') as ExampleStatus | 'all'
  if (!STATUSES.includes(status)) throw new AppError(400, 'invalid_request', '"status" is pending, approved, rejected or all')
  const limit = boundedInt(c.req.query('limit'), 100, 1, 1000, 'limit')
  const offset = boundedInt(c.req.query('offset'), 0, 0, Number.MAX_SAFE_INTEGER, 'offset')
  const tableName = c.req.query('table')?.trim() || undefined
  if (tableName !== undefined && !/^[\p{L}\p{N}_$.-]{1,127}$/u.test(tableName)) throw new AppError(400, 'invalid_request', '"table" is a table name, optionally schema-qualified')
  const q = c.req.query('q')?.trim() || undefined
  if (q !== undefined && q.length > 200) throw new AppError(400, 'invalid_request', '"q" is at most 200 characters')
  const result = await db(c, (session) => listExamples(session, table(c), { status, limit, offset, ...(tableName ? { table: tableName } : {}), ...(q ? { q } : {}) }))
  return c.json({ ...result, limit, offset })
})

/**
 * One action on many examples, each as its own route would do it (approve checks each SQL now);
 * one refresh at the end when asked. Each id gets its outcome: `{id, ok: true, example?}` or
 * `{id, ok: false, error: {code, message}}` — one failing id does not stop the others. A path of its
 * own, not under /examples/: `bulk` would otherwise also be read as an example id.
 */
adminExampleRoutes.post('/v1/admin/examples-bulk', jsonBody((config) => config.maxBodyBytes), validJson(BulkSchema, 'bulk action'), async (c) => {
  const { action, ids, reason } = c.req.valid('json')
  requireDatabase(c)
  const by = actor(c)
  const results: ({ id: string; ok: true; example?: StoredExample } | { id: string; ok: false; error: { code: string; message: string } })[] = []
  for (const id of [...new Set(ids)]) {
    const fail = (code: string, message: string) => results.push({ id, ok: false, error: { code, message } })
    if (action === 'delete') {
      if (await db(c, (session) => deleteExample(session, table(c), id))) results.push({ id, ok: true })
      else fail('not_found', `No example ${id}`)
      continue
    }
    if (action === 'approve') {
      const current = await db(c, (session) => getExample(session, table(c), id))
      if (!current) {
        fail('not_found', `No example ${id}`)
        continue
      }
      const check = await checkExampleSql(c.var.config, current.sql)
      const example = await db(c, (session) => approveExample(session, table(c), id, by, check))
      if (!example) fail('not_found', `No example ${id}`)
      else if (!check.ok) fail('example_sql_invalid', `Example ${id} cannot be approved: its SQL fails the check (${check.error})`)
      else results.push({ id, ok: true, example })
      continue
    }
    const example = await db(c, (session) => (action === 'reject' ? rejectExample(session, table(c), id, by, reason || null) : unapproveExample(session, table(c), id, by)))
    if (example) results.push({ id, ok: true, example })
    else fail('not_found', `No example ${id}`)
  }
  return c.json({ results, refresh: await refreshIfAsked(c) })
})

adminExampleRoutes.get('/v1/admin/examples/:id', async (c) => {
  const id = exampleId(c.req.param('id'))
  return c.json({ example: found(await db(c, (session) => getExample(session, table(c), id)), id) })
})

/**
 * Approval checks the SQL again now (the schema may have changed since it was stored) and stores
 * the verdict either way; an SQL that fails stays pending: 409 example_sql_invalid with the reason.
 */
adminExampleRoutes.post('/v1/admin/examples/:id/approve', async (c) => {
  const id = exampleId(c.req.param('id'))
  requireDatabase(c)
  const current = found(await db(c, (session) => getExample(session, table(c), id)), id)
  const check = await checkExampleSql(c.var.config, current.sql)
  const example = found(await db(c, (session) => approveExample(session, table(c), id, actor(c), check)), id)
  if (!check.ok) throw new AppError(409, 'example_sql_invalid', `Example ${id} cannot be approved: its SQL fails the check (${check.error}); edit it first`, { details: [{ id, error: check.error }] })
  return c.json({ example, refresh: await refreshIfAsked(c) })
})

adminExampleRoutes.post('/v1/admin/examples/:id/unapprove', async (c) => {
  const id = exampleId(c.req.param('id'))
  const example = found(await db(c, (session) => unapproveExample(session, table(c), id, actor(c))), id)
  return c.json({ example, refresh: await refreshIfAsked(c) })
})

/** Rejected is a state of its own (who, when, why): the pair leaves prompts and the queue and does not come back as pending. */
adminExampleRoutes.post('/v1/admin/examples/:id/reject', async (c) => {
  const id = exampleId(c.req.param('id'))
  const reason = await optionalReason(c)
  const example = found(await db(c, (session) => rejectExample(session, table(c), id, actor(c), reason)), id)
  return c.json({ example, refresh: await refreshIfAsked(c) })
})

/**
 * Edit the question and/or the SQL; the SQL is checked again and the verdict stored. An approved
 * example whose new SQL fails goes back to pending (prompts only see SQL that passes); the edit
 * is saved either way, so a reviewer can keep working on it.
 */
adminExampleRoutes.patch('/v1/admin/examples/:id', jsonBody((config) => config.maxBodyBytes), validJson(EditSchema, 'edit'), async (c) => {
  const id = exampleId(c.req.param('id'))
  const edit = c.req.valid('json')
  requireDatabase(c)
  const current = found(await db(c, (session) => getExample(session, table(c), id)), id)
  const next = { question: edit.question ?? current.question, sql: edit.sql ?? current.sql }
  const check = await checkExampleSql(c.var.config, next.sql)
  const example = await db(c, (session) => editExample(session, table(c), id, next, actor(c), check))
  if (example === 'duplicate') throw new AppError(409, 'example_exists', 'Another example already holds that question and SQL')
  return c.json({ example: found(example, id), refresh: await refreshIfAsked(c) })
})

adminExampleRoutes.delete('/v1/admin/examples/:id', async (c) => {
  const id = exampleId(c.req.param('id'))
  const deleted = await db(c, (session) => deleteExample(session, table(c), id))
  if (!deleted) throw new AppError(404, 'not_found', `No example ${id}`)
  return c.json({ deleted: id, refresh: await refreshIfAsked(c) })
})

function found(example: StoredExample | null, id: string): StoredExample {
  if (!example) throw new AppError(404, 'not_found', `No example ${id}`)
  return example
}

function requireDatabase(c: Ctx): void {
  if (!c.var.config.database.url) throw new AppError(503, 'database_not_configured', 'Examples are stored in the database: set the DATABASE_URL secret or a HYPERDRIVE binding')
}

/** A reject may carry `{"reason": "…"}`; an empty body is no reason. */
async function optionalReason(c: Ctx): Promise<string | null> {
  const text = await c.req.text()
  if (!text.trim()) return null
  if (text.length > c.var.config.maxBodyBytes) throw new AppError(413, 'payload_too_large', `The body is larger than ${c.var.config.maxBodyBytes} bytes`)
  if (mediaType(c.req.header('content-type')) !== 'json') throw new AppError(415, 'unsupported_media_type', 'Send the body as JSON with "Content-Type: application/json"')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new AppError(400, 'invalid_json', 'The body is not valid JSON')
  }
  const parsed = RejectSchema.safeParse(value)
  if (!parsed.success) throw new AppError(400, 'invalid_request', `Invalid reject: ${describeFirstIssue(parsed.error)}`)
  return parsed.data.reason || null
}

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
