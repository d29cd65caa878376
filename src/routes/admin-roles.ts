import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app-env'
import { AppError } from '../errors'
import { requireAdmin } from '../middleware/auth'
import { previewRole } from '../schema/preview-role'
import { loadSnapshot } from '../schema/snapshot-store'

/** The roles a refresh recorded, and what the model would see as each (the console's role preview). */
export const adminRoleRoutes = new Hono<AppEnv>()

adminRoleRoutes.use('/v1/admin/roles', requireAdmin)
adminRoleRoutes.use('/v1/admin/roles/*', requireAdmin)

adminRoleRoutes.get('/v1/admin/roles', async (c) => {
  // Read through: an admin looks right after a refresh, not at an isolate's cached copy.
  const snapshot = await loadSnapshot(c.env.SCHEMA_KV, { cacheTtlSeconds: 0 })
  return c.json({ version: snapshot.version, recorded: (snapshot.roles ?? []).map((r) => r.name), db_roles: c.var.config.dbRoles })
})

adminRoleRoutes.get('/v1/admin/roles/:role/view', async (c) => {
  const role = c.req.param('role')
  const snapshot = await loadSnapshot(c.env.SCHEMA_KV, { cacheTtlSeconds: 0 })
  const preview = previewRole(snapshot, role)
  if (!preview) throw new AppError(404, 'not_found', `The schema snapshot ${snapshot.version} records nothing about the role "${role}": a refresh records each role of DB_ROLES that exists in the database`)
  return c.json(preview)
})
