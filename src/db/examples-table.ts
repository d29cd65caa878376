import type { Example } from '../schema/snapshot-schema'
import type { Db } from './connect'
import { quoteIdent } from './sample-values'

export type ExamplesTable = { schema: string; name: string }
export type NewExample = { question: string; sql: string; source: string; approved: boolean; request_id?: string | null }
export type StoredExample = NewExample & { id: string; created_at: string; approved_at: string | null }

const qualified = (t: ExamplesTable) => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`

/**
 * Question→SQL pairs (the old service's get_question_sql) in the business database, in a table
 * the service creates the first time it writes one. Approved pairs travel into the snapshot at
 * refresh; feedback arrives unapproved.
 */
export async function ensureExamplesTable(db: Db, t: ExamplesTable): Promise<void> {
  const index = quoteIdent(`${t.name}_pair_key`)
  await db.batch(`
CREATE TABLE IF NOT EXISTS ${qualified(t)} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  question text NOT NULL CHECK (length(question) > 0),
  sql text NOT NULL CHECK (length(sql) > 0),
  source text NOT NULL DEFAULT 'admin',
  approved boolean NOT NULL DEFAULT false,
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  approved_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS ${index} ON ${qualified(t)} (md5(question || chr(31) || sql));
COMMENT ON TABLE ${qualified(t)} IS 'txt2sql-edge: question→SQL examples shown to the model (approved ones) and feedback awaiting approval';`)
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
  const inserted = await db.query<{ id: string }>(
    `INSERT INTO ${qualified(t)} (question, sql, source, approved, request_id, approved_at)
     SELECT q, s, src, ok, rid, CASE WHEN ok THEN now() END
       FROM (SELECT x.*, row_number() OVER (PARTITION BY md5(x.q || chr(31) || x.s) ORDER BY x.n) AS copy
               FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::text[]) WITH ORDINALITY AS x(q, s, src, ok, rid, n)) AS x
      WHERE x.copy = 1
        AND NOT EXISTS (SELECT 1 FROM ${qualified(t)} AS e WHERE md5(e.question || chr(31) || e.sql) = md5(x.q || chr(31) || x.s))
      ORDER BY x.n
     ON CONFLICT DO NOTHING RETURNING id::text AS id`,
    [rows.map((r) => r.question), rows.map((r) => r.sql), rows.map((r) => r.source), rows.map((r) => r.approved), rows.map((r) => r.request_id ?? null)],
  )
  return { inserted: inserted.length, ids: inserted.map((r) => r.id) }
}

export async function findExample(db: Db, t: ExamplesTable, question: string, sql: string): Promise<StoredExample | null> {
  const rows = await db.query<StoredExample>(`${SELECT_COLUMNS} FROM ${qualified(t)} WHERE md5(question || chr(31) || sql) = md5($1 || chr(31) || $2)`, [question, sql])
  return rows[0] ?? null
}

const SELECT_COLUMNS = `SELECT id::text AS id, question, sql, source, approved, request_id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
  to_char(approved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS approved_at`

export async function listExamples(
  db: Db,
  t: ExamplesTable,
  opts: { status: 'pending' | 'approved' | 'all'; limit: number; offset: number },
): Promise<{ examples: StoredExample[]; total: number }> {
  if (!(await examplesTableExists(db, t))) return { examples: [], total: 0 }
  const where = opts.status === 'all' ? 'true' : opts.status === 'approved' ? 'approved' : 'NOT approved'
  const [rows, count] = await Promise.all([
    db.query<StoredExample>(`${SELECT_COLUMNS} FROM ${qualified(t)} WHERE ${where} ORDER BY id LIMIT $1 OFFSET $2`, [opts.limit, opts.offset]),
    db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(t)} WHERE ${where}`),
  ])
  return { examples: rows, total: Number(count[0]?.n ?? 0) }
}

/** Approves (or withdraws) one pair; null when there is no such id. */
export async function setApproved(db: Db, t: ExamplesTable, id: string, approved: boolean): Promise<StoredExample | null> {
  if (!(await examplesTableExists(db, t))) return null
  const rows = await db.query<{ id: string }>(
    `UPDATE ${qualified(t)} SET approved = $2, approved_at = CASE WHEN $2 THEN now() END WHERE id = $1::bigint RETURNING id::text AS id`,
    [id, approved],
  )
  if (!rows.length) return null
  return (await db.query<StoredExample>(`${SELECT_COLUMNS} FROM ${qualified(t)} WHERE id = $1::bigint`, [id]))[0] ?? null
}

export async function deleteExample(db: Db, t: ExamplesTable, id: string): Promise<boolean> {
  if (!(await examplesTableExists(db, t))) return false
  return (await db.query(`DELETE FROM ${qualified(t)} WHERE id = $1::bigint RETURNING id`, [id])).length > 0
}

/** The approved pairs, oldest first; none while the table does not exist yet. */
export async function approvedExamples(db: Db, t: ExamplesTable): Promise<Example[]> {
  if (!(await examplesTableExists(db, t))) return []
  return db.query<Example>(`SELECT question, sql FROM ${qualified(t)} WHERE approved ORDER BY id`)
}

async function examplesTableExists(db: Db, t: ExamplesTable): Promise<boolean> {
  const rows = await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [qualified(t)])
  return rows[0]?.ok === true
}
