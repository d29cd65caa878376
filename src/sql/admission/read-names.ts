import { admitParsedSql } from './admit-sql'
import { isParserLoaded, parseSql } from './pg-parser'

/**
 * The relations an SQL text reads and the column names it refers to, from Postgres's parse
 * (normalised: `U&"\0065mployees"` is `employees`, unquoted names folded to lower case; CTE names
 * are not relations). Relations are `schema.name` when qualified, else `name`. Null when the text
 * does not parse or the parser is not loaded yet (`loadParser`): callers then show nothing.
 */
export function readNames(sql: string): { relations: string[]; columns: string[] } | null {
  if (!isParserLoaded()) return null
  const parsed = parseSql(sql)
  if (!parsed.ok) return null
  const columns = new Set<string>()
  try {
    collectColumns(parsed.tree, columns)
  } catch {
    // Nested deeper than the walk's stack: not shown, as any text that cannot be read.
    return null
  }
  const admission = admitParsedSql(sql)
  if (!admission.ok && admission.rule === 'too_complex') return null
  return { relations: admission.relations, columns: [...columns] }
}

function collectColumns(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) return value.forEach((v) => collectColumns(v, into))
  if (typeof value !== 'object' || value === null) return
  for (const [key, body] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'ColumnRef') {
      const fields = ((body as { fields?: { String?: { sval?: string } }[] }).fields ?? []).map((f) => f.String?.sval).filter((s): s is string => s !== undefined)
      const last = fields[fields.length - 1]
      if (last !== undefined) into.add(last)
    }
    collectColumns(body, into)
  }
}
