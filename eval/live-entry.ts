// What `npm run eval:live` takes from the service's own code (bundled with esbuild): the Neon
// driver session (through the local WebSocket relay for a local Postgres) and the result-value
// parsing the service uses for `rows`, so gold and answered SQL are read the same way.
import { openDb, type Db } from '../src/db/connect'
import { resultTypes } from '../src/db/result-values'
import { admitSql } from '../src/sql/admission/admit-sql'

export { openDb }

/**
 * One query, read-only. With `admit` (the answered SQL) only what the service itself would admit:
 * the same admission gate (src/sql/admission; `functions`: DB_FUNCTIONS), so a benchmark never runs
 * SQL the service would refuse — a refusal comes back as a failure with code `admission:<rule>`.
 * The gold SQL is the operator's own file, run as written. Then `BEGIN READ ONLY` with a statement timeout, the text as ONE statement
 * through the extended protocol (inside a subquery, as the service checks it: only a query fits
 * there), at most `maxRows` + 1 rows, always rolled back.
 */
export async function runReadOnly(db: Db, sql: string, opts: { timeoutMs: number; maxRows: number; admit?: boolean; functions?: string[] }): Promise<{ ok: true; columns: string[]; rows: unknown[][]; truncated: boolean; ms: number } | { ok: false; error: string; code?: string }> {
  const body = sql.replace(/[\s;；]+$/u, '')
  const admission = opts.admit ? await admitSql(body, { functions: opts.functions ?? [] }) : { ok: true as const }
  if (!admission.ok) return { ok: false, error: admission.error, code: `admission:${admission.rule}` }
  const started = Date.now()
  await db.batch(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.floor(opts.timeoutMs)}; SET LOCAL TimeZone = 'UTC'`)
  try {
    const { rows, fields } = await db.single(`SELECT * FROM (\n${body}\n) AS txt2sql_eval LIMIT ${opts.maxRows + 1}`, resultTypes)
    return { ok: true, columns: fields.map((f) => f.name), rows: rows.slice(0, opts.maxRows), truncated: rows.length > opts.maxRows, ms: Date.now() - started }
  } catch (err) {
    const e = err as { message?: unknown; code?: unknown }
    return { ok: false, error: String(e.message ?? err), ...(typeof e.code === 'string' ? { code: e.code } : {}) }
  } finally {
    await db.batch('ROLLBACK').catch(() => {})
  }
}

export { parseCsv } from '../src/examples/parse-csv'
