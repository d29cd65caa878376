import { inspectPlan } from '../sql/plan-guard'
import type { Db } from './connect'
import { toDatabaseError } from './database-error'
import { resultTypes, TYPE_NAMES } from './result-values'

export type GuardOptions = {
  /** Business schemas: the only ones a query may read. */
  schemas: string[]
  checkTimeoutMs: number
  executeTimeoutMs: number
  maxRows: number
  maxBytes: number
}

export type SqlFailure = { ok: false; error: string; position?: number; pg_code?: string }
export type SqlCheck = { ok: true; plan_rows: number; plan_cost: number } | SqlFailure
/** A run the service refused for the database role (nothing was sent to Postgres to run). */
export type SqlRefusal = { ok: false; refused: true; error: string }
export type SqlRows = {
  ok: true
  columns: { name: string; type: string }[]
  rows: unknown[][]
  truncated: boolean
  elapsed_ms: number
}
export type SqlRun = SqlRows | SqlFailure | SqlRefusal

// The model's text goes inside a subquery: Postgres then accepts only a query there (no DML, no
// SELECT INTO, no data-modifying WITH, no utility statement), and the outer LIMIT caps the rows.
const OPEN = 'SELECT * FROM (\n'
const CLOSE = '\n) AS txt2sql_q'
const EXPLAIN = 'EXPLAIN (FORMAT JSON, VERBOSE) '

/**
 * Checks a model's SQL with Postgres — and runs it when asked — inside `BEGIN READ ONLY` with
 * statement, lock and idle timeouts, always rolled back. One statement only (extended protocol);
 * the plan is inspected (plan-guard) before anything runs; running also needs a role that cannot
 * read server files. Problems with the SQL come back as `ok:false` with Postgres's message and
 * position in the model's text; problems reaching the database throw an AppError.
 */
export async function checkAndRun(db: Db, sql: string, opts: GuardOptions & { execute: boolean }): Promise<{ check: SqlCheck; run?: SqlRun }> {
  const body = sql.replace(/[\s;；]+$/u, '')
  if (opts.execute) {
    const refusal = await roleRefusal(db)
    if (refusal) {
      const check = await inTransaction(db, opts.checkTimeoutMs, () => explain(db, body, opts.schemas))
      return { check, run: { ok: false, refused: true, error: refusal } }
    }
  }
  return inTransaction(db, Math.max(opts.checkTimeoutMs, opts.execute ? opts.executeTimeoutMs : 0), async () => {
    const check = await explain(db, body, opts.schemas)
    if (!check.ok || !opts.execute) return { check }
    await db.batch(`SET LOCAL statement_timeout = ${opts.executeTimeoutMs}`)
    return { check, run: await run(db, body, opts) }
  })
}

async function explain(db: Db, body: string, schemas: string[]): Promise<SqlCheck> {
  const prefix = EXPLAIN + OPEN
  try {
    const { rows } = await db.single(prefix + body + CLOSE)
    const plan = rows[0]?.[0]
    const verdict = inspectPlan(typeof plan === 'string' ? JSON.parse(plan) : plan, schemas)
    return verdict.ok ? verdict : { ok: false, error: verdict.reason }
  } catch (err) {
    return sqlFailure(err, prefix.length, body.length)
  }
}

async function run(db: Db, body: string, opts: GuardOptions): Promise<SqlRun> {
  const started = Date.now()
  try {
    const { rows, fields } = await db.single(`${OPEN}${body}${CLOSE} LIMIT ${opts.maxRows + 1}`, resultTypes)
    let truncated = rows.length > opts.maxRows
    const kept = truncated ? rows.slice(0, opts.maxRows) : rows
    // The byte cap: keep whole rows while their JSON fits.
    let bytes = 0
    let n = 0
    for (; n < kept.length; n++) {
      bytes += JSON.stringify(kept[n]).length + 1
      if (bytes > opts.maxBytes) break
    }
    if (n < kept.length) truncated = true
    const types = await typeNames(db, fields.map((f) => f.dataTypeID))
    return {
      ok: true,
      columns: fields.map((f) => ({ name: f.name, type: types.get(f.dataTypeID) ?? `oid:${f.dataTypeID}` })),
      rows: kept.slice(0, n),
      truncated,
      elapsed_ms: Date.now() - started,
    }
  } catch (err) {
    return sqlFailure(err, OPEN.length, body.length)
  }
}

/**
 * A name for each result type: the short names of result-values.ts, else Postgres's own
 * (`format_type`: `inet`, an enum's name, `character varying`); an array is its element's name
 * with `[]` (`integer[]`, `timestamptz[]`). Asked of the database only for types not known here.
 */
async function typeNames(db: Db, oids: number[]): Promise<Map<number, string>> {
  const names = new Map<number, string>()
  for (const oid of oids) if (TYPE_NAMES[oid]) names.set(oid, TYPE_NAMES[oid])
  const unknown = [...new Set(oids.filter((oid) => !names.has(oid)))]
  if (!unknown.length) return names
  const rows = await db.query<{ oid: number; name: string; element: number | null }>(
    `SELECT t.oid::int AS oid, format_type(t.oid, NULL) AS name, e.oid::int AS element
       FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_type e ON e.typarray = t.oid
      WHERE t.oid = ANY($1::oid[])`,
    [unknown],
  )
  for (const r of rows) names.set(r.oid, r.element !== null && TYPE_NAMES[r.element] ? `${TYPE_NAMES[r.element]}[]` : r.name)
  return names
}

/** Execution refuses roles that can read or write server files or run programs (superusers included). */
async function roleRefusal(db: Db): Promise<string | null> {
  const [row] = await db.query<{ superuser: boolean; files: boolean }>(
    `SELECT r.rolsuper AS superuser,
            pg_has_role(current_user, 'pg_read_server_files', 'USAGE') OR pg_has_role(current_user, 'pg_write_server_files', 'USAGE')
              OR pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') AS files
       FROM pg_roles r WHERE r.rolname = current_user`,
  )
  if (row?.superuser) return 'execution refused: the database role is a superuser; configure a read-only role (docs/SECURITY.md)'
  if (row?.files) return 'execution refused: the database role may read server files or run programs; configure a read-only role (docs/SECURITY.md)'
  return null
}

async function inTransaction<T>(db: Db, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  await db.batch(
    `BEGIN READ ONLY; SET LOCAL statement_timeout = ${timeoutMs}; SET LOCAL lock_timeout = ${Math.min(timeoutMs, 1000)}; ` +
      `SET LOCAL idle_in_transaction_session_timeout = ${timeoutMs + 5000}; SET LOCAL TimeZone = 'UTC'`,
  )
  try {
    return await work()
  } finally {
    await db.batch('ROLLBACK').catch(() => {})
  }
}

type PgError = { code?: unknown; message?: unknown; position?: unknown }

/** A Postgres error about the SQL → ok:false with its position in the model's text; others throw. */
function sqlFailure(err: unknown, offset: number, length: number): SqlFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as PgError
  const code = typeof e.code === 'string' ? e.code : ''
  // Connection-level trouble is not the SQL's fault.
  if (!code || /^(08|28|3D|53|57P)/.test(code)) throw toDatabaseError(err)
  const failure: SqlFailure = { ok: false, error: code === '57014' ? 'the statement timed out' : String(e.message ?? 'error'), pg_code: code }
  const position = Number(e.position)
  if (Number.isInteger(position) && position > offset && position <= offset + length) failure.position = position - offset
  return failure
}
