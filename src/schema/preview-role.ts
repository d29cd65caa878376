import { cutToRole } from './role-view'
import type { Snapshot } from './snapshot-schema'

export type RolePreview = {
  role: string
  version: string
  /** What the model is shown as this role: each table with the columns it may read. */
  tables: { schema: string; name: string; columns: string[]; hidden_columns: string[]; row_security: boolean }[]
  /** Tables of the snapshot the role cannot read at all (`schema.name`). */
  hidden_tables: string[]
  examples: number
  glossary_terms: number
}

/**
 * The console's "preview a role": the very cut the prompt gets (cutToRole), listed beside what it
 * leaves out, so an admin sees what a role's callers are told — and what they are not. Null when
 * the snapshot records nothing about the role (a refresh records each role of DB_ROLES).
 */
export function previewRole(snapshot: Snapshot, role: string): RolePreview | null {
  const recorded = snapshot.roles?.find((r) => r.name === role)
  if (!recorded) return null
  const view = cutToRole(snapshot, recorded)
  const shown = new Map(view.tables.map((t) => [`${t.schema}.${t.name}`, new Set(t.columns.map((c) => c.name))]))
  return {
    role,
    version: snapshot.version,
    tables: view.tables.map((t) => {
      const full = snapshot.tables.find((f) => f.schema === t.schema && f.name === t.name)!
      const seen = shown.get(`${t.schema}.${t.name}`)!
      return { schema: t.schema, name: t.name, columns: [...seen], hidden_columns: full.columns.filter((c) => !seen.has(c.name)).map((c) => c.name), row_security: t.row_security === true }
    }),
    hidden_tables: snapshot.tables.filter((t) => !shown.has(`${t.schema}.${t.name}`)).map((t) => `${t.schema}.${t.name}`),
    examples: view.examples.length,
    glossary_terms: view.glossary?.length ?? 0,
  }
}
