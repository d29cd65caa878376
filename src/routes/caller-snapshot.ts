import type { Context } from 'hono'
import type { AppEnv } from '../app-env'
import type { Snapshot } from '../schema/snapshot-schema'
import { snapshotForRole } from '../schema/role-view'
import { loadParser } from '../sql/admission/pg-parser'
import { loadServedSnapshot } from './served-snapshot'

/**
 * The schema as this caller may see it, of the configured database only (served-snapshot.ts): a
 * JWT caller gets what its database role may read, and nothing else; a key (or an open service)
 * the whole snapshot.
 */
export async function loadCallerSnapshot(c: Context<AppEnv>): Promise<Snapshot> {
  const stored = await loadServedSnapshot(c)
  const caller = c.var.caller
  if (caller.via !== 'jwt') return stored
  // A role's examples are chosen by the relations their SQL reads, from Postgres's parser.
  await loadParser()
  return snapshotForRole(stored, caller.role)
}
