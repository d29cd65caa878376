import { AppError } from '../errors'
import type { Db } from './connect'

export type SampleTarget = { schema: string; table: string; column: string }

/** Columns per sampling statement: one round trip reads many columns. */
const BATCH = 40
/** Rows read per column at most: sampling never scans a big table. */
const ROWS_PER_COLUMN = 2000

export function columnKey(schema: string, table: string, column: string): string {
  return JSON.stringify([schema, table, column])
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/**
 * Distinct values of columns that have no planner statistics, read from a bounded slice of each
 * table (`ROWS_PER_COLUMN` rows, at most `perColumn` distinct values), in batches of read-only
 * statements with a statement timeout; batches stop when the time budget is spent (those columns
 * are counted as skipped, never failed).
 */
export async function sampleColumns(
  db: Db,
  targets: SampleTarget[],
  opts: { perColumn: number; maxChars: number; budgetMs: number; now: () => number },
): Promise<{ values: Map<string, string[]>; skipped: number }> {
  const values = new Map<string, string[]>()
  let skipped = 0
  const deadline = opts.now() + opts.budgetMs
  for (let i = 0; i < targets.length; i += BATCH) {
    const batch = targets.slice(i, i + BATCH)
    const left = deadline - opts.now()
    if (left < 50) {
      skipped += targets.length - i
      break
    }
    const selects = batch.map((t, j) => {
      const col = quoteIdent(t.column)
      return `(SELECT ${j} AS k, v FROM (SELECT DISTINCT ${col}::text AS v FROM (SELECT ${col} FROM ${quoteIdent(t.schema)}.${quoteIdent(t.table)} WHERE ${col} IS NOT NULL LIMIT ${ROWS_PER_COLUMN}) s WHERE length(${col}::text) <= ${opts.maxChars} LIMIT ${opts.perColumn}) d)`
    })
    const timeout = Math.max(50, Math.min(left, 5000))
    try {
      const result = (await db.batch(
        `BEGIN READ ONLY; SET LOCAL statement_timeout = ${timeout}; ${selects.join(' UNION ALL ')}; COMMIT`,
      )) as { rows: { k: number; v: string }[] }[]
      const rows = result[2]?.rows ?? []
      for (const row of rows) {
        const t = batch[row.k]!
        const key = columnKey(t.schema, t.table, t.column)
        values.set(key, [...(values.get(key) ?? []), row.v])
      }
    } catch (err) {
      await db.batch('ROLLBACK').catch(() => {})
      // A slow or unreadable table costs its samples, not the refresh.
      if (err instanceof AppError && (err.code === 'database_timeout' || err.code === 'database_permission_denied' || err.code === 'database_error')) {
        skipped += batch.length
        continue
      }
      throw err
    }
  }
  return { values, skipped }
}
