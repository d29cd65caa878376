import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import type { Snapshot } from '../schema/snapshot-schema'
import { snapshotForRole } from '../schema/role-view'
import { loadSnapshot } from '../schema/snapshot-store'
import { runInBackground } from './run-in-background'

/**
 * The schema as this caller may see it: a JWT caller gets what its database role may read, and
 * nothing else; a key (or an open service) the whole snapshot.
 */
export async function loadCallerSnapshot(c: Context<AppEnv>): Promise<Snapshot> {
  const stored = await loadSnapshot(c.env.SCHEMA_KV, { cacheTtlSeconds: c.var.config.schemaCacheTtlSeconds, background: (work) => runInBackground(c, work) })
  const caller = c.var.caller
  return caller.via === 'jwt' ? snapshotForRole(stored, caller.role) : stored
}
