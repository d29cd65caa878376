import { admitSql } from '../sql/admission/admit-sql'
import { inspectPlan } from '../sql/plan-guard'
import type { Db } from './connect'
import { toDatabaseError } from './database-error'
import { resultTypes, TYPE_NAMES } from './result-values'

/** A database role to act as and the verified claims to hand it (src/auth/caller.ts). */
export type DbIdentity = { role: string; claims: string }

export type GuardOptions = {
  /** Business schemas: the only ones a query may read. */
  schemas: string[]
  /** Business-schema functions the admission gate admits besides its allowlist (DB_FUNCTIONS). */
  functions?: string[]
  checkTimeoutMs: number
  executeTimeoutMs: number
  maxRows: number
  maxBytes: number
  /**
   * A JWT caller's database role and verified claims: the check and the run happen as that role,
   * with the claims in `request.jwt.claims` (PostgREST's convention), so its grants and row-level
   * security policies apply. Absent: the connecting role, as always.
   */
  as?: DbIdentity
}

/** `rule`: the admission gate's rule that refused the SQL (src/sql/admission/admit-sql.ts); `pg_code`: Postgres's. */
export type SqlFailure = { ok: false; error: string; position?: number; pg_code?: string; rule?: string }
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
 * statement, lock and idle timeouts, always rolled back; for a JWT caller as its role, with its
 * claims. First the admission gate (src/sql/admission): nothing it refuses reaches the database.
 * One statement only (extended protocol); the plan is inspected (plan-guard) before anything
 * runs; running also needs roles that cannot read server files. Problems with the SQL come back
 * as `ok:false` with the gate's or Postgres's message and position in the model's text; problems
 * reaching the database throw an AppError. `relations`: what the plan reads, for the audit log
 * (for SQL the gate refused: what its text names).
 */
export async function checkAndRun(db: Db, sql: string, opts: GuardOptions & { execute: boolean }): Promise<{ check: SqlCheck; run?: SqlRun; relations: string[] }> {
  const body = sql.replace(/[\s;；]+$/u, '')
  const refused = await admissionRefusal(body, opts.functions)
  if (refused) return refused
  return inTransaction(db, Math.max(opts.checkTimeoutMs, opts.execute ? opts.executeTimeoutMs : 0), opts.as, async () => {
    const refusal = opts.execute ? await roleRefusal(db) : null
    const { check, relations } = await explain(db, body, opts.schemas)
    if (refusal) return { check, run: { ok: false, refused: true, error: refusal }, relations }
    if (!check.ok || !opts.execute) return { check, relations }
    await db.batch(`SET LOCAL statement_timeout = ${opts.executeTimeoutMs}`)
    return { check, run: await run(db, body, opts), relations }
  })
}

/**
 * The admission gate's verdict as a check: null when the SQL is admitted, else the refusal with its
 * rule, message, position and the relations its text names. Callers may ask it before connecting
 * (src/answer/guard-sql.ts); checkAndRun asks it again, so no path skips it.
 */
export async function admissionRefusal(sql: string, functions: string[] = []): Promise<{ check: SqlFailure; relations: string[] } | null> {
  const admission = await admitSql(sql.replace(/[\s;；]+$/u, ''), { functions })
  if (admission.ok) return null
  const { rule, error, position, relations } = admission
  return { check: { ok: false, error, rule, ...(position ? { position } : {}) }, relations }
}

async function explain(db: Db, body: string, schemas: string[]): Promise<{ check: SqlCheck; relations: string[] }> {
  const prefix = EXPLAIN + OPEN
  try {
    const { rows } = await db.single(prefix + body + CLOSE)
    const plan = rows[0]?.[0]
    const { relations, ...verdict } = inspectPlan(typeof plan === 'string' ? JSON.parse(plan) : plan, schemas)
    return { check: verdict.ok ? verdict : { ok: false, error: verdict.reason }, relations }
  } catch (err) {
    return { check: sqlFailure(err, prefix.length, body.length), relations: [] }
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

/**
 * Execution refuses roles that can read or write server files or run programs (superusers
 * included): the role that logged in, and the caller's role it switched to.
 */
async function roleRefusal(db: Db): Promise<string | null> {
  const [row] = await db.query<{ superuser: boolean; files: boolean }>(
    `SELECT bool_or(r.rolsuper) AS superuser,
            bool_or(pg_has_role(r.oid, 'pg_read_server_files', 'USAGE') OR pg_has_role(r.oid, 'pg_write_server_files', 'USAGE')
              OR pg_has_role(r.oid, 'pg_execute_server_program', 'USAGE')) AS files
       FROM pg_roles r WHERE r.rolname IN (current_user, session_user)`,
  )
  if (row?.superuser) return 'execution refused: the database role is a superuser; configure a read-only role (docs/SECURITY.md)'
  if (row?.files) return 'execution refused: the database role may read server files or run programs; configure a read-only role (docs/SECURITY.md)'
  return null
}

async function inTransaction<T>(db: Db, timeoutMs: number, as: DbIdentity | undefined, work: () => Promise<T>): Promise<T> {
  await db.batch(
    `BEGIN READ ONLY; SET LOCAL statement_timeout = ${timeoutMs}; SET LOCAL lock_timeout = ${Math.min(timeoutMs, 1000)}; ` +
      `SET LOCAL idle_in_transaction_session_timeout = ${timeoutMs + 5000}; SET LOCAL TimeZone = 'UTC'`,
  )
  try {
    // SET LOCAL ROLE and the claims, as parameters (never spliced into SQL text): set_config(…,
    // true) is SET LOCAL, so both end with the transaction — nothing is left in a pooled session.
    if (as) await db.query("SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", [as.role, as.claims])
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
