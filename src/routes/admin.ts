import { Hono } from 'hono'
import { validator } from 'hono/validator'
import type { AppEnv } from '../app-env'
import { AppError } from '../errors'
import { requireAdmin } from '../middleware/auth'
import { jsonBody } from '../middleware/json-body'
import { parseSnapshot, saveSnapshot } from '../schema/snapshot-store'

export const adminRoutes = new Hono<AppEnv>()

adminRoutes.use('/v1/admin/*', requireAdmin)

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
    const snapshot = { ...c.req.valid('json'), source: c.req.valid('json').source ?? 'upload', refreshed_at: new Date().toISOString() }
    await saveSnapshot(c.env.SCHEMA_KV, snapshot)
    return c.json({ version: snapshot.version, tables: snapshot.tables.length, examples: snapshot.examples.length })
  },
)
