import { AppError } from '../errors'
import { admitSql } from '../sql/admission/admit-sql'
import { inspectPlan } from '../sql/plan-guard'
import type { Db } from './connect'
import { toDatabaseError } from './database-error'
import { resultTypes, TYPE_NAMES } from './result-values'

/**
 * A database role to act as and the verified claims to hand it (src/auth/caller.ts). `loggedIn`:
 * the session logged in as that role (DB_ROLE_URLS) — only the claims are set, and the session
 * must be that role.
 */
export type DbIdentity = { role: string; claims: string; loggedIn?: boolean }

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
/**
 * `plan_rows` / `plan_cost` are absent when the plan reads a table under row-level security: the
 * estimate counts every tenant's rows (docs/SECURITY.md, "Figures").
 */
export type SqlCheck = { ok: true; plan_rows?: number; plan_cost?: number } | SqlFailure
/** A run the service refused for the database role (nothing was sent to Postgres to run). */
export type SqlRefusal = { ok: false; refused: true; error: string }
export type SqlRows = {
  ok: true
  columns: { name: string; type: string }[]
  rows: unknown[][]
  truncated: boolean
  /** Why rows are missing when `truncated`: the row cap, the byte cap, or one row larger than the byte cap. */
  truncated_reason?: string
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
    const planned = await explain(db, body, opts.schemas)
    const relations = planned.relations
    // Refused by Postgres: the transaction is aborted, nothing more can be asked in it.
    if (!planned.check.ok && planned.check.pg_code) return { check: planned.check, relations }
    const facts = await sessionFacts(db, relations, opts.execute ? opts.executeTimeoutMs : undefined)
    // No figures over row-level security: the estimate counts other tenants' rows.
    const check: SqlCheck = planned.check.ok && facts.rowSecurity ? { ok: true } : planned.check
    if (facts.refusal) return { check, run: { ok: false, refused: true, error: facts.refusal }, relations }
    if (!check.ok || !opts.execute) return { check, relations }
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

// A plan's JSON is read as text and measured before it is parsed: Postgres folds constant
// expressions into the plan (`repeat('x', 60000000)` becomes a 60 MB literal in VERBOSE's Output),
// and EXPLAIN can be neither wrapped nor read through a cursor. The driver still receives that one
// message whole — refusing huge constants before anything reaches Postgres is the admission
// gate's part — but the worker does not parse it into a second and third copy. VERBOSE stays:
// the plan guard needs its Schema and Output fields. Real plans weigh a few kilobytes.
const MAX_PLAN_CHARS = 1_048_576
const PLAN_AS_TEXT = { getTypeParser: () => (value: string) => value }

async function explain(db: Db, body: string, schemas: string[]): Promise<{ check: SqlCheck; relations: string[] }> {
  const prefix = EXPLAIN + OPEN
  try {
    const { rows } = await db.single(prefix + body + CLOSE, PLAN_AS_TEXT)
    const plan = rows[0]?.[0]
    if (typeof plan === 'string' && plan.length > MAX_PLAN_CHARS) {
      return { check: { ok: false, error: `the query's plan is ${plan.length} characters, more than ${MAX_PLAN_CHARS}: it folds into constants too large to check` }, relations: [] }
    }
    const { relations, ...verdict } = inspectPlan(typeof plan === 'string' ? JSON.parse(plan) : plan, schemas)
    return { check: verdict.ok ? verdict : { ok: false, error: verdict.reason }, relations }
  } catch (err) {
    return { check: sqlFailure(err, prefix.length, body.length), relations: [] }
  }
}

// The run reads the model's query through a cursor, in pieces, with its size measured where it
// is: Postgres. Each row carries its own size (octet_length of its text form, which is at least
// what its columns weigh on the wire) and the running total; a row past SQL_MAX_RESULT_BYTES in
// total is sent as a marker (no values, only its size and `sent = false`), so no value larger than
// the cap ever travels, and the worker stops at the first marker. The worker therefore holds at
// most the cap in rows received, whatever the query returns (docs/SECURITY.md, "Memory").
// Why a LATERAL join: `(CASE WHEN … THEN row END).*` is refused ("record type has not been
// registered"); `(s.row).*` behind a WHERE keeps every column's own name and type.
const CURSOR = 'txt2sql_rows'
/** Rows per FETCH: their values are bounded by the total cap anyway; this bounds the markers. */
const FETCH_ROWS = 100
const SIZE_COLUMNS = 2

function cursorSql(body: string, opts: GuardOptions): { text: string; offset: number } {
  const head =
    `DECLARE ${CURSOR} NO SCROLL CURSOR FOR SELECT txt2sql_x.*, txt2sql_s.txt2sql_size, txt2sql_s.txt2sql_total <= ${opts.maxBytes} AS txt2sql_sent FROM (\n` +
    ' SELECT txt2sql_m.txt2sql_row, txt2sql_m.txt2sql_size, sum(txt2sql_m.txt2sql_size) OVER (ROWS UNBOUNDED PRECEDING) AS txt2sql_total FROM (\n' +
    // `txt2sql_q.*` in an expression is the whole row even when the query has a column of that name.
    '  SELECT txt2sql_q.*::record AS txt2sql_row, octet_length(txt2sql_q.*::text) AS txt2sql_size FROM (\n' +
    OPEN
  // OFFSET 0 keeps Postgres from inlining the measuring level, which would print each row twice.
  const tail = `${CLOSE} LIMIT ${opts.maxRows + 1}\n  ) AS txt2sql_q OFFSET 0\n ) AS txt2sql_m\n) AS txt2sql_s LEFT JOIN LATERAL (SELECT (txt2sql_s.txt2sql_row).* WHERE txt2sql_s.txt2sql_total <= ${opts.maxBytes}) AS txt2sql_x ON true`
  return { text: head + body + tail, offset: head.length }
}

async function run(db: Db, body: string, opts: GuardOptions): Promise<SqlRun> {
  const started = Date.now()
  const { text, offset } = cursorSql(body, opts)
  try {
    // One statement through the extended protocol, as the check's: a text holding several is refused.
    await db.single(text)
    const rows: unknown[][] = []
    let fields: { name: string; dataTypeID: number }[] = []
    let cut: string | undefined
    let bytes = 0
    for (let first = true; rows.length <= opts.maxRows && cut === undefined; first = false) {
      // SQL_EXECUTE_TIMEOUT_MS bounds the run as a whole, not each FETCH: a later piece gets what is left.
      if (!first) {
        const left = started + opts.executeTimeoutMs - Date.now()
        if (left <= 0) return { ok: false, error: 'the statement timed out', pg_code: '57014' }
        await db.batch(`SET LOCAL statement_timeout = ${left}`)
      }
      const piece = await db.single(`FETCH ${FETCH_ROWS} FROM ${CURSOR}`, resultTypes)
      fields = piece.fields.slice(0, -SIZE_COLUMNS)
      for (const row of piece.rows) {
        const size = Number(row[fields.length])
        if (row[fields.length + 1] !== true) {
          cut = size > opts.maxBytes
            ? `row ${rows.length + 1} is ${size} bytes, more than SQL_MAX_RESULT_BYTES (${opts.maxBytes}): its values were not sent`
            : `the rows reached SQL_MAX_RESULT_BYTES (${opts.maxBytes})`
          break
        }
        const values = row.slice(0, fields.length)
        // The JSON the caller receives may weigh more than Postgres's text (quotes, escapes): the
        // cap holds for it too.
        bytes += JSON.stringify(values).length + 1
        if (bytes > opts.maxBytes) {
          cut = `the rows reached SQL_MAX_RESULT_BYTES (${opts.maxBytes})`
          break
        }
        rows.push(values)
      }
      if (piece.rows.length < FETCH_ROWS) break
    }
    if (cut === undefined && rows.length > opts.maxRows) {
      rows.length = opts.maxRows
      cut = `the rows reached SQL_MAX_ROWS (${opts.maxRows})`
    }
    const types = await typeNames(db, fields.map((f) => f.dataTypeID))
    return {
      ok: true,
      columns: fields.map((f) => ({ name: f.name, type: types.get(f.dataTypeID) ?? `oid:${f.dataTypeID}` })),
      rows,
      truncated: cut !== undefined,
      ...(cut !== undefined ? { truncated_reason: cut } : {}),
      elapsed_ms: Date.now() - started,
    }
  } catch (err) {
    return sqlFailure(err, offset, body.length)
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
 * What the session must know after the plan, in one round trip: whether any relation the plan
 * reads has row-level security on (its estimates then count rows of other tenants, so the figures
 * are withheld — from every caller, as the policy may filter the service's own login too; asked
 * of the catalog by schema and name as the plan prints them); and, for a run, whether the role
 * that logged in or the caller's role it switched to is a superuser or may read server files or
 * run programs (refused); then the run's statement timeout is set for what follows.
 */
async function sessionFacts(db: Db, relations: string[], executeTimeoutMs: number | undefined): Promise<{ rowSecurity: boolean; refusal: string | null }> {
  if (!relations.length && executeTimeoutMs === undefined) return { rowSecurity: false, refusal: null }
  const at = relations.map((r) => r.indexOf('.'))
  const [row] = await db.query<{ rls: boolean | null; superuser: boolean | null; files: boolean | null }>(
    `SELECT facts.* FROM (
     SELECT (SELECT bool_or(c.relrowsecurity)
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               JOIN unnest($1::text[], $2::text[]) AS r(nsp, rel) ON r.nsp = n.nspname AND r.rel = c.relname) AS rls,
            bool_or(r.rolsuper) AS superuser,
            bool_or(pg_has_role(r.oid, 'pg_read_server_files', 'USAGE') OR pg_has_role(r.oid, 'pg_write_server_files', 'USAGE')
              OR pg_has_role(r.oid, 'pg_execute_server_program', 'USAGE')) AS files
       FROM pg_catalog.pg_roles r WHERE r.rolname IN (current_user, session_user)) AS facts`,
    [relations.map((r, i) => r.slice(0, at[i])), relations.map((r, i) => r.slice(at[i]! + 1))],
  )
  // The run's own timeout, as SET LOCAL (our own integer, never a caller's text): not set_config(),
  // which a hardened read-only role may not execute (the demo database revokes it from PUBLIC).
  if (executeTimeoutMs !== undefined) await db.batch(`SET LOCAL statement_timeout = ${Math.trunc(executeTimeoutMs)}`)
  const rowSecurity = row?.rls === true
  if (executeTimeoutMs === undefined) return { rowSecurity, refusal: null }
  if (row?.superuser) return { rowSecurity, refusal: 'execution refused: the database role is a superuser; configure a read-only role (docs/SECURITY.md)' }
  if (row?.files) return { rowSecurity, refusal: 'execution refused: the database role may read server files or run programs; configure a read-only role (docs/SECURITY.md)' }
  return { rowSecurity, refusal: null }
}

async function inTransaction<T>(db: Db, timeoutMs: number, as: DbIdentity | undefined, work: () => Promise<T>): Promise<T> {
  await db.batch(
    `BEGIN READ ONLY; SET LOCAL statement_timeout = ${timeoutMs}; SET LOCAL lock_timeout = ${Math.min(timeoutMs, 1000)}; ` +
      `SET LOCAL idle_in_transaction_session_timeout = ${timeoutMs + 5000}; SET LOCAL TimeZone = 'UTC'`,
  )
  try {
    // SET LOCAL ROLE and the claims, as parameters (never spliced into SQL text): set_config(…,
    // true) is SET LOCAL, so both end with the transaction — nothing is left in a pooled session.
    if (as?.loggedIn) await actAsLogin(db, as)
    else if (as) await db.query("SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", [as.role, as.claims])
    return await work()
  } finally {
    await db.batch('ROLLBACK').catch(() => {})
  }
}

/**
 * On a role's own login (DB_ROLE_URLS) only the claims are set; the login must be the role itself,
 * or a wrong entry in DB_ROLE_URLS would run one role's SQL with another's grants.
 */
async function actAsLogin(db: Db, as: DbIdentity): Promise<void> {
  const [row] = await db.query<{ same: boolean }>("SELECT set_config('request.jwt.claims', $2, true) IS NOT NULL AND session_user = $1 AND current_user = $1 AS same", [as.role, as.claims])
  if (!row?.same) throw new AppError(500, 'server_misconfigured', 'DB_ROLE_URLS: the login given for the caller\'s role is not that role')
}

type PgError = { code?: unknown; message?: unknown; position?: unknown }

/** A Postgres error about the SQL → ok:false with its position in the model's text; others throw. */
function sqlFailure(err: unknown, offset: number, length: number): SqlFailure {
  // Our own statements around the query (Db.query/batch) fail as AppErrors already: the database's fault.
  if (err instanceof AppError) throw err
  const e = (typeof err === 'object' && err !== null ? err : {}) as PgError
  const code = typeof e.code === 'string' ? e.code : ''
  // Connection-level trouble is not the SQL's fault; a query that ran the server out of memory
  // (53200) is, like one past a program limit (54xxx): `ok:false`, never database_unreachable.
  if (!code || (/^(08|28|3D|53|57P)/.test(code) && code !== '53200')) throw toDatabaseError(err)
  const failure: SqlFailure = { ok: false, error: code === '57014' ? 'the statement timed out' : String(e.message ?? 'error'), pg_code: code }
  const position = Number(e.position)
  if (Number.isInteger(position) && position > offset && position <= offset + length) failure.position = position - offset
  return failure
}
