import type { RoleView, Table } from '../schema/snapshot-schema'
import { ROLE_PRIVILEGES_SQL } from './catalog-queries'
import type { Db } from './connect'

type PrivilegeRow = { role: string; schema: string; name: string; whole: boolean; columns: string[] | null }

/**
 * What each role of DB_ROLES may read of the introspected tables, in their order: a table it may
 * SELECT whole keeps all the columns the snapshot has; one it may read only some columns of lists
 * those. Roles the database does not have are returned as `missing` (nothing is recorded for them).
 */
export async function readRoleViews(db: Db, roles: string[], schemas: string[], tables: Table[]): Promise<{ views: RoleView[]; missing: string[] }> {
  if (!roles.length) return { views: [], missing: [] }
  const [rows, existing] = await Promise.all([
    db.query<PrivilegeRow>(ROLE_PRIVILEGES_SQL, [roles, schemas]),
    db.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])', [roles]),
  ])
  const known = new Set(existing.map((r) => r.rolname))
  const grants = new Map<string, PrivilegeRow>()
  for (const row of rows) grants.set(JSON.stringify([row.role, row.schema, row.name]), row)
  const views: RoleView[] = []
  for (const role of roles) {
    if (!known.has(role)) continue
    const readable: RoleView['tables'] = []
    for (const t of tables) {
      const grant = grants.get(JSON.stringify([role, t.schema, t.name]))
      if (!grant) continue
      if (grant.whole) {
        readable.push({ schema: t.schema, name: t.name })
        continue
      }
      const allowed = new Set(grant.columns ?? [])
      const columns = t.columns.map((c) => c.name).filter((c) => allowed.has(c))
      if (columns.length === t.columns.length) readable.push({ schema: t.schema, name: t.name })
      else if (columns.length) readable.push({ schema: t.schema, name: t.name, columns })
    }
    views.push({ name: role, tables: readable })
  }
  return { views, missing: roles.filter((r) => !known.has(r)) }
}
