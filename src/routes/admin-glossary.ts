import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { validJson } from '../middleware/valid-json'
import { AppError } from '../errors'
import { requireAdmin } from '../middleware/auth'
import { jsonBody } from '../middleware/json-body'
import { checkGlossary, GlossarySchema, loadGlossary } from '../schema/glossary'
import { loadSnapshot } from '../schema/snapshot-store'
import { storeGlossary } from '../schema/store-glossary'

/**
 * `GET/PUT /v1/admin/glossary`: the company's terms → tables/columns + definitions. A PUT is
 * checked against the cached snapshot (every reference must exist), stored in KV for later
 * refreshes and copied into the cached snapshot at once (a new version), so the next question uses it.
 */
export const adminGlossaryRoutes = new Hono<AppEnv>()

adminGlossaryRoutes.use('/v1/admin/glossary', requireAdmin)
adminGlossaryRoutes.use('/v1/admin/glossary/check', requireAdmin)

adminGlossaryRoutes.get('/v1/admin/glossary', async (c) => c.json((await loadGlossary(c.env.SCHEMA_KV)) ?? { terms: [] }))

adminGlossaryRoutes.put(
  '/v1/admin/glossary',
  jsonBody((config) => config.maxSnapshotBytes),
  validJson(GlossarySchema, 'glossary'),
  async (c) => {
    const glossary = c.req.valid('json')
    const kv = c.env.SCHEMA_KV
    // Read through: the check must see the snapshot as stored now, not an isolate's cached copy.
    const snapshot = await loadSnapshot(kv, { cacheTtlSeconds: 0 })
    const problems = checkGlossary(glossary, snapshot.tables)
    if (problems.length) throw new AppError(400, 'invalid_glossary', `The glossary does not fit the schema ${snapshot.version}: ${describeProblems(problems)}`, { details: problems })
    const pointer = await storeGlossary(kv, snapshot, glossary)
    return c.json({ terms: glossary.terms.length, version: pointer.version })
  },
)

/**
 * `POST /v1/admin/glossary/check`: the PUT's check without storing anything — the console asks it
 * as a term is typed, so an unknown table or column is said at once, not only at saving.
 */
adminGlossaryRoutes.post(
  '/v1/admin/glossary/check',
  jsonBody((config) => config.maxSnapshotBytes),
  validJson(GlossarySchema, 'glossary'),
  async (c) => {
    const snapshot = await loadSnapshot(c.env.SCHEMA_KV, { cacheTtlSeconds: 0 })
    const problems = checkGlossary(c.req.valid('json'), snapshot.tables)
    return c.json({ ok: problems.length === 0, version: snapshot.version, problems, ...(problems.length ? { message: describeProblems(problems) } : {}) })
  },
)

function describeProblems(problems: ReturnType<typeof checkGlossary>): string {
  const listed = problems.slice(0, 10).map((p) => (p.problem === 'no_reference' ? `${p.term}: names no table or column` : p.problem === 'duplicate_term' ? `${p.ref}: given twice` : `${p.term} → ${p.ref}: ${p.problem === 'unknown_table' ? 'no such table' : 'no such column'}`))
  return `${listed.join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}`
}
