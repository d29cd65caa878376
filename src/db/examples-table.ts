import type { Example } from '../schema/snapshot-schema'
import type { Db } from './connect'
import { quoteIdent } from './sample-values'

export type ExamplesTable = { schema: string; name: string }
export type ExampleStatus = 'pending' | 'approved' | 'rejected'
/** The check's verdict on an example's SQL (the admission gate and Postgres, as the service's read-only login). */
export type ExampleCheck = { ok: true } | { ok: false; error: string }
export type NewExample = {
  question: string
  sql: string
  source: string
  approved: boolean
  request_id?: string | null
  /** The verdict stored with it; an example whose check failed is never stored approved. */
  check: ExampleCheck
  /** Who sent it: `admin-token`, `key:<hash>`, `sub:<sub>`, `anonymous`. */
  sent_by: string | null
  /** The database role it was sent under (a JWT caller's), else null. */
  sent_role?: string | null
  /** Who approved it, when stored approved. */
  approved_by?: string | null
  /** The model's SQL, when this pair's SQL is a correction of it (feedback with another SQL). */
  model_sql?: string | null
}
export type StoredExample = {
  id: string
  question: string
  sql: string
  source: string
  status: ExampleStatus
  /** `status === 'approved'`, kept for the callers that read it before statuses existed. */
  approved: boolean
  request_id: string | null
  created_at: string
  approved_at: string | null
  approved_by: string | null
  rejected_at: string | null
  rejected_by: string | null
  rejected_reason: string | null
  updated_at: string | null
  updated_by: string | null
  sent_by: string | null
  sent_role: string | null
  /** The model's SQL this example's SQL corrects (a `wrong` feedback with the right SQL); null otherwise. */
  model_sql: string | null
  /** null for a row stored before checks existed and not edited or approved since. */
  check: (ExampleCheck & { checked_at: string }) | null
  /** Times put in a prompt, times it answered a question verified. */
  prompted: number
  verified: number
}

const qualified = (t: ExamplesTable) => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`

/**
 * Question→SQL pairs (the old service's get_question_sql) in the business database, in a table
 * the service creates the first time it writes one. Approved pairs travel into the snapshot at
 * refresh; feedback arrives pending. A table created by an older version gets the newer columns
 * here (ADD COLUMN IF NOT EXISTS), its rows' status taken from their `approved` flag, so the same
 * code serves both. `approved` is kept in step with `status` for an older version still reading it.
 */
export async function ensureExamplesTable(db: Db, t: ExamplesTable): Promise<void> {
  const index = quoteIdent(`${t.name}_pair_key`)
  const q = qualified(t)
  await db.batch(`
CREATE TABLE IF NOT EXISTS ${q} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  question text NOT NULL CHECK (length(question) > 0),
  sql text NOT NULL CHECK (length(sql) > 0),
  source text NOT NULL DEFAULT 'admin',
  approved boolean NOT NULL DEFAULT false,
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  approved_at timestamptz
);
ALTER TABLE ${q}
  ADD COLUMN IF NOT EXISTS status text,
  ADD COLUMN IF NOT EXISTS approved_by text,
  ADD COLUMN IF NOT EXISTS rejected_at timestamptz,
  ADD COLUMN IF NOT EXISTS rejected_by text,
  ADD COLUMN IF NOT EXISTS rejected_reason text,
  ADD COLUMN IF NOT EXISTS updated_at timestamptz,
  ADD COLUMN IF NOT EXISTS updated_by text,
  ADD COLUMN IF NOT EXISTS sent_by text,
  ADD COLUMN IF NOT EXISTS sent_role text,
  ADD COLUMN IF NOT EXISTS check_ok boolean,
  ADD COLUMN IF NOT EXISTS check_error text,
  ADD COLUMN IF NOT EXISTS checked_at timestamptz,
  ADD COLUMN IF NOT EXISTS prompted bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS verified bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS model_sql text;
UPDATE ${q} SET status = CASE WHEN approved THEN 'approved' ELSE 'pending' END WHERE status IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS ${index} ON ${q} (md5(question || chr(31) || sql));
COMMENT ON TABLE ${q} IS 'txt2sql-edge: question→SQL examples shown to the model (approved ones), feedback awaiting review, rejected proposals';`)
}

/**
 * Inserts many pairs in one statement, in their order; an identical question+SQL already stored
 * (or earlier in the same import) is skipped. Skipped before the insert, not by ON CONFLICT alone:
 * Postgres draws an identity value for every row it tries, so a conflict would leave a gap in the
 * ids. (ON CONFLICT stays for an import racing another; ids may still skip a number then, or after
 * a failed insert — a sequence never gives a number back.)
 */
export async function insertExamples(db: Db, t: ExamplesTable, rows: NewExample[]): Promise<{ inserted: number; ids: string[] }> {
  if (!rows.length) return { inserted: 0, ids: [] }
  const col = <T>(f: (r: NewExample) => T) => rows.map(f)
  const inserted = await db.query<{ id: string }>(
    `INSERT INTO ${qualified(t)} (question, sql, source, approved, status, request_id, approved_at, approved_by, sent_by, sent_role, check_ok, check_error, checked_at, model_sql)
     SELECT q, s, src, ok, CASE WHEN ok THEN 'approved' ELSE 'pending' END, rid, CASE WHEN ok THEN now() END, CASE WHEN ok THEN aby END, sby, srole, cok, cerr, now(), msql
       FROM (SELECT x.*, row_number() OVER (PARTITION BY md5(x.q || chr(31) || x.s) ORDER BY x.n) AS copy
               FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bool[], $10::text[], $11::text[])
                    WITH ORDINALITY AS x(q, s, src, ok, rid, aby, sby, srole, cok, cerr, msql, n)) AS x
      WHERE x.copy = 1
        AND NOT EXISTS (SELECT 1 FROM ${qualified(t)} AS e WHERE md5(e.question || chr(31) || e.sql) = md5(x.q || chr(31) || x.s))
      ORDER BY x.n
     ON CONFLICT DO NOTHING RETURNING id::text AS id`,
    [
      col((r) => r.question),
      col((r) => r.sql),
      col((r) => r.source),
      // Never approved without a passing check.
      col((r) => r.approved && r.check.ok),
      col((r) => r.request_id ?? null),
      col((r) => r.approved_by ?? null),
      col((r) => r.sent_by),
      col((r) => r.sent_role ?? null),
      col((r) => r.check.ok),
      col((r) => (r.check.ok ? null : r.check.error)),
      col((r) => r.model_sql ?? null),
    ],
  )
  return { inserted: inserted.length, ids: inserted.map((r) => r.id) }
}

const ts = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

const SELECT_COLUMNS = `SELECT id::text AS id, question, sql, source, status, approved, request_id, ${ts('created_at')} AS created_at,
  ${ts('approved_at')} AS approved_at, approved_by, ${ts('rejected_at')} AS rejected_at, rejected_by, rejected_reason,
  ${ts('updated_at')} AS updated_at, updated_by, sent_by, sent_role, model_sql, check_ok, check_error, ${ts('checked_at')} AS checked_at,
  prompted::float8 AS prompted, verified::float8 AS verified`

type Row = Omit<StoredExample, 'check'> & { check_ok: boolean | null; check_error: string | null; checked_at: string | null }

function fromRow({ check_ok, check_error, checked_at, ...rest }: Row): StoredExample {
  const check: StoredExample['check'] =
    check_ok === null || checked_at === null ? null : check_ok ? { ok: true, checked_at } : { ok: false, error: check_error ?? 'error', checked_at }
  return { ...rest, prompted: Number(rest.prompted), verified: Number(rest.verified), check }
}

export async function findExample(db: Db, t: ExamplesTable, question: string, sql: string): Promise<StoredExample | null> {
  const rows = await db.query<Row>(`${SELECT_COLUMNS} FROM ${qualified(t)} WHERE md5(question || chr(31) || sql) = md5($1 || chr(31) || $2)`, [question, sql])
  return rows[0] ? fromRow(rows[0]) : null
}

export async function getExample(db: Db, t: ExamplesTable, id: string): Promise<StoredExample | null> {
  if (!(await examplesTableExists(db, t))) return null
  const rows = await db.query<Row>(`${SELECT_COLUMNS} FROM ${qualified(t)} WHERE id = $1::bigint`, [id])
  return rows[0] ? fromRow(rows[0]) : null
}

export type ExampleFilter = {
  status: ExampleStatus | 'all'
  /** Examples whose SQL names this table (a word match on the text, `schema.name` or `name`). */
  table?: string
  /** Case-insensitive text in the question or the SQL. */
  q?: string
  limit: number
  offset: number
}

export async function listExamples(db: Db, t: ExamplesTable, f: ExampleFilter): Promise<{ examples: StoredExample[]; total: number }> {
  if (!(await examplesTableExists(db, t))) return { examples: [], total: 0 }
  // Each filter is a parameter: $1 status (null = all), $2 a table-name pattern, $3 a text pattern.
  const where = `($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR sql ~* $2) AND ($3::text IS NULL OR strpos(lower(question || chr(31) || sql), lower($3)) > 0)`
  const params = [f.status === 'all' ? null : f.status, f.table ? tablePattern(f.table) : null, f.q ?? null]
  const [rows, count] = await Promise.all([
    db.query<Row>(`${SELECT_COLUMNS} FROM ${qualified(t)} WHERE ${where} ORDER BY id LIMIT $4 OFFSET $5`, [...params, f.limit, f.offset]),
    db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(t)} WHERE ${where}`, params),
  ])
  return { examples: rows.map(fromRow), total: Number(count[0]?.n ?? 0) }
}

/** A regex matching the table's name as a word (quoted or not), any schema prefix; its text escaped. */
function tablePattern(table: string): string {
  const name = table.includes('.') ? table.slice(table.lastIndexOf('.') + 1) : table
  const escaped = name.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')
  return `(^|[^[:alnum:]_])"?${escaped}"?($|[^[:alnum:]_])`
}

/** Who changed it, as the admin auth recorded (`admin-token` or a person's `sub`). */
export type Actor = string

/** Approves one pair; null when there is no such id. The caller has checked its SQL. */
export async function approveExample(db: Db, t: ExamplesTable, id: string, by: Actor, check: ExampleCheck): Promise<StoredExample | null> {
  return updateOne(
    db,
    t,
    id,
    `status = CASE WHEN $2 THEN 'approved' ELSE status END, approved = $2 OR approved, approved_at = CASE WHEN $2 AND status <> 'approved' THEN now() ELSE approved_at END,
     approved_by = CASE WHEN $2 AND status <> 'approved' THEN $3 ELSE approved_by END, rejected_at = CASE WHEN $2 THEN NULL ELSE rejected_at END,
     rejected_by = CASE WHEN $2 THEN NULL ELSE rejected_by END, rejected_reason = CASE WHEN $2 THEN NULL ELSE rejected_reason END,
     check_ok = $2, check_error = $4, checked_at = now()`,
    [check.ok, by, check.ok ? null : check.error],
  )
}

/** Withdraws an approval: the pair is pending again. */
export function unapproveExample(db: Db, t: ExamplesTable, id: string, by: Actor): Promise<StoredExample | null> {
  return updateOne(db, t, id, `status = 'pending', approved = false, approved_at = NULL, approved_by = NULL, updated_at = now(), updated_by = $2`, [by])
}

/** Rejected: stays out of prompts and out of the pending queue, with who and why. */
export function rejectExample(db: Db, t: ExamplesTable, id: string, by: Actor, reason: string | null): Promise<StoredExample | null> {
  return updateOne(
    db,
    t,
    id,
    `status = 'rejected', approved = false, approved_at = NULL, approved_by = NULL, rejected_at = now(), rejected_by = $2, rejected_reason = $3`,
    [by, reason],
  )
}

/**
 * A new question and/or SQL, with the new check's verdict. An approved example whose new SQL fails
 * its check goes back to pending (what prompts see must pass); a valid edit keeps its status.
 * `duplicate`: another row already holds that question+SQL.
 */
export async function editExample(
  db: Db,
  t: ExamplesTable,
  id: string,
  change: { question: string; sql: string },
  by: Actor,
  check: ExampleCheck,
): Promise<StoredExample | null | 'duplicate'> {
  if (!(await examplesTableExists(db, t))) return null
  const clash = await db.query(`SELECT 1 FROM ${qualified(t)} WHERE md5(question || chr(31) || sql) = md5($1 || chr(31) || $2) AND id <> $3::bigint`, [change.question, change.sql, id])
  if (clash.length) return 'duplicate'
  return updateOne(
    db,
    t,
    id,
    `question = $2, sql = $3, updated_at = now(), updated_by = $4, check_ok = $5, check_error = $6, checked_at = now(),
     status = CASE WHEN status = 'approved' AND NOT $5 THEN 'pending' ELSE status END,
     approved = approved AND $5, approved_at = CASE WHEN $5 THEN approved_at END, approved_by = CASE WHEN $5 THEN approved_by END`,
    [change.question, change.sql, by, check.ok, check.ok ? null : check.error],
  )
}

async function updateOne(db: Db, t: ExamplesTable, id: string, set: string, values: unknown[]): Promise<StoredExample | null> {
  if (!(await examplesTableExists(db, t))) return null
  const rows = await db.query<{ id: string }>(`UPDATE ${qualified(t)} SET ${set} WHERE id = $1::bigint RETURNING id::text AS id`, [id, ...values])
  if (!rows.length) return null
  return getExample(db, t, id)
}

export async function deleteExample(db: Db, t: ExamplesTable, id: string): Promise<boolean> {
  if (!(await examplesTableExists(db, t))) return false
  return (await db.query(`DELETE FROM ${qualified(t)} WHERE id = $1::bigint RETURNING id`, [id])).length > 0
}

/** The approved pairs that passed their check, oldest first; none while the table does not exist yet. */
export async function approvedExamples(db: Db, t: ExamplesTable): Promise<Example[]> {
  if (!(await examplesTableExists(db, t))) return []
  return db.query<Example>(
    `SELECT id::text AS id, question, sql, ${ts('approved_at')} AS approved_at FROM ${qualified(t)}
      WHERE status = 'approved' AND check_ok IS NOT FALSE ORDER BY id`,
  )
}

/**
 * Adds to the counters of the examples named (ids repeated count as often as they appear). One
 * statement for a batch; called in the background (waitUntil), never on the answer's path.
 */
export async function countExampleUse(db: Db, t: ExamplesTable, counts: { prompted: string[]; verified: string[] }): Promise<void> {
  if (!counts.prompted.length && !counts.verified.length) return
  if (!(await examplesTableExists(db, t))) return
  await db.query(
    `UPDATE ${qualified(t)} AS e SET prompted = e.prompted + c.p, verified = e.verified + c.v
       FROM (SELECT id, sum(p)::bigint AS p, sum(v)::bigint AS v FROM (
               SELECT unnest($1::bigint[]) AS id, 1 AS p, 0 AS v UNION ALL SELECT unnest($2::bigint[]), 0, 1) AS u GROUP BY id) AS c
      WHERE e.id = c.id`,
    [counts.prompted, counts.verified],
  )
}

/**
 * Whether the table exists — brought up to date first when an older version created it (its
 * newest column missing), so every reader and writer below sees the same columns.
 */
async function examplesTableExists(db: Db, t: ExamplesTable): Promise<boolean> {
  const [row] = await db.query<{ exists: boolean; current: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS exists,
            EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'model_sql' AND NOT attisdropped) AS current`,
    [qualified(t)],
  )
  if (!row?.exists) return false
  if (!row.current) await ensureExamplesTable(db, t)
  return true
}
