import { Hono } from 'hono/tiny'
import { validator } from 'hono/validator'
import type { AppEnv } from '../app-env'
import { validJson } from '../middleware/valid-json'
import { AppError, toAppError } from '../errors'
import { requireAdmin } from '../middleware/auth'
import { jsonBody } from '../middleware/json-body'
import { checkGlossary, fitGlossary, loadGlossary } from '../schema/glossary'
import { loadOverlay, OVERLAY_KEY, OverlaySchema } from '../schema/overlay'
import { lastRefresh, refreshSnapshot } from '../schema/refresh'
import { checkRoleViews } from '../schema/role-view'
import { loadSynonyms } from '../linking/load-synonyms'
import { databaseFingerprint } from '../schema/database-fingerprint'
import { parseSnapshot, readPointerFrom, saveSnapshot } from '../schema/snapshot-store'

export const adminRoutes = new Hono<AppEnv>()

adminRoutes.use('/v1/admin/*', requireAdmin)

/** What is cached, where it came from, and how the last refresh went. */
adminRoutes.get('/v1/admin/schema', async (c) => {
  const kv = c.env.SCHEMA_KV
  const [pointer, last, overlay, glossary] = await Promise.all([readPointerFrom(kv), lastRefresh(kv), loadOverlay(kv), loadGlossary(kv)])
  const { body: _body, previous: _previous, ...snapshot } = pointer ?? ({} as Record<string, unknown>)
  return c.json({
    snapshot: pointer ? snapshot : null,
    last_refresh: last,
    overlay: overlay ? { tables: Object.keys(overlay.tables).length } : null,
    glossary: glossary ? { terms: glossary.terms.length } : null,
    // The configured database's fingerprint beside the snapshot's: different, and the snapshot is not served.
    database: { configured: c.var.config.database.url !== undefined, schemas: c.var.config.database.schemas, fingerprint: (await databaseFingerprint(c.var.config.database.url)) ?? null },
  })
})

/** Upload a curated snapshot; validated in full before it replaces the cached one. */
adminRoutes.put(
  '/v1/admin/schema',
  jsonBody((config) => config.maxSnapshotBytes),
  validator('json', (value) => {
    const parsed = parseSnapshot(value)
    if (!parsed.ok) throw new AppError(400, 'invalid_request', `Invalid snapshot: ${parsed.error}`)
    return parsed.snapshot
  }),
  async (c) => {
    const body = c.req.valid('json')
    // A snapshot with its own glossary must fit it; one without gets the curated glossary (KV).
    const problems = body.glossary ? checkGlossary({ terms: body.glossary }, body.tables) : []
    if (problems.length) {
      throw new AppError(400, 'invalid_glossary', `Invalid snapshot: its glossary names what its tables lack (${problems.slice(0, 5).map((p) => `${p.term} → ${p.ref || '—'}: ${p.problem}`).join('; ')})`, { details: problems })
    }
    const roleProblems = checkRoleViews(body)
    if (roleProblems.length) throw new AppError(400, 'invalid_request', `Invalid snapshot: its roles name what its tables lack (${roleProblems.slice(0, 5).join('; ')})`)
    const glossary = body.glossary ?? fitGlossary(await loadGlossary(c.env.SCHEMA_KV), body.tables).terms
    const { glossary: _given, database: _claimed, ...content } = body
    // Uploaded to this service, it describes the database this service is configured for.
    const database = await databaseFingerprint(c.var.config.database.url)
    const { pointer } = await saveSnapshot(
      c.env.SCHEMA_KV,
      { ...content, source: body.source ?? 'upload', ...(database ? { database } : {}), ...(glossary.length ? { glossary } : {}) },
      { linking: { synonyms: await loadSynonyms(c.env.ASSETS) } },
    )
    return c.json({ version: pointer.version, tables: body.tables.length, examples: body.examples.length })
  },
)

/** Introspect the database now; a failure keeps the cached snapshot and says why. */
adminRoutes.post('/v1/admin/schema/refresh', async (c) => c.json(await refreshSnapshot(c.env.SCHEMA_KV, c.var.config, 'admin', c.env.ASSETS)))

adminRoutes.get('/v1/admin/schema/overlay', async (c) => c.json((await loadOverlay(c.env.SCHEMA_KV)) ?? { tables: {} }))

/** Curated comments laid over the introspected ones at every refresh (and at once, with ?refresh=true). */
adminRoutes.put(
  '/v1/admin/schema/overlay',
  jsonBody((config) => config.maxSnapshotBytes),
  validJson(OverlaySchema, 'overlay'),
  async (c) => {
    const overlay = c.req.valid('json')
    await c.env.SCHEMA_KV.put(OVERLAY_KEY, JSON.stringify(overlay))
    const refresh = wantsRefresh(c.req.query('refresh')) ? await refreshAfterWrite(c.env.SCHEMA_KV, c.var.config, 'admin', c.env.ASSETS) : null
    return c.json({ tables: Object.keys(overlay.tables).length, refresh })
  },
)

export function wantsRefresh(value: string | undefined): boolean {
  return /^(1|true|yes)$/i.test(value ?? '')
}

/**
 * The optional refresh after a write that has already succeeded: its failure is reported beside
 * the write's result (`ok: false`), not as the request's error — the write is not undone.
 */
export async function refreshAfterWrite(
  kv: KVNamespace,
  config: Parameters<typeof refreshSnapshot>[1],
  trigger: Parameters<typeof refreshSnapshot>[2],
  assets?: Fetcher,
): Promise<({ ok: true } & Awaited<ReturnType<typeof refreshSnapshot>>) | { ok: false; error: { code: string; message: string } }> {
  try {
    return { ok: true, ...(await refreshSnapshot(kv, config, trigger, assets)) }
  } catch (err) {
    const e = toAppError(err)
    return { ok: false, error: { code: e.code, message: e.message } }
  }
}
