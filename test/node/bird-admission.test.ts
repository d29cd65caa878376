import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error — a plain .mjs helper without types: bundles a module of src/ for Node (esbuild)
import { importSource } from '../../bench/lib/bundle.mjs'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'

// "It still admits what analysts write" (issue 30): BIRD mini-dev's PostgreSQL gold SQL (500
// queries over 11 databases; ../shared/data/bird) against an empty copy of its schemas, built from
// dev_tables.json, in a real Postgres — each database a schema of its own. Every query Postgres can
// plan must be admitted by the gate (the same module eval:live bundles for Node); any refusal is
// listed here with its rule, and in docs/SECURITY.md.
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const data = join(root, '..', 'shared', 'data', 'bird')
type Gold = { question_id: number; db_id: string; SQL: string }
type Tables = { db_id: string; table_names_original: string[]; column_names_original: [number, string][]; column_types: string[] }

/** Refusals of plannable gold SQL, by question id, with the rule (none: the allowlist admits them all). */
const KNOWN_REFUSALS: Record<number, string> = {}

const TYPES: Record<string, string> = { integer: 'bigint', real: 'double precision', text: 'text', date: 'date', datetime: 'timestamp' }
/** As the BIRD PostgreSQL dump names things: plain names unquoted (folded to lower case), others exactly. */
const ident = (name: string) => `"${(/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name.toLowerCase() : name).replaceAll('"', '""')}"`

function schemaDdl(db: Tables): string {
  const lines = [`DROP SCHEMA IF EXISTS ${db.db_id} CASCADE;`, `CREATE SCHEMA ${db.db_id};`]
  db.table_names_original.forEach((table, t) => {
    const columns = db.column_names_original.map(([owner, name], i) => [owner, name, db.column_types[i]] as const).filter(([owner]) => owner === t)
    const seen = new Set<string>()
    const defs = columns.filter(([, name]) => !seen.has(ident(name)) && seen.add(ident(name))).map(([, name, type]) => `${ident(name)} ${TYPES[type!] ?? 'text'}`)
    lines.push(`CREATE TABLE ${db.db_id}.${ident(table)} (${defs.join(', ')});`)
  })
  return lines.join('\n')
}

let postgres: LocalPostgres
let client: pg.Client
let admit: (sql: string) => Promise<{ ok: boolean; rule?: string; error?: string }>

beforeAll(async () => {
  postgres = await startLocalPostgres()
  const tables = JSON.parse(readFileSync(join(data, 'dev_tables.json'), 'utf8')) as Tables[]
  postgres.psql(tables.map(schemaDdl).join('\n'))
  client = new pg.Client({ connectionString: postgres.url() })
  await client.connect()
  const mod = await importSource(join(root, 'src', 'sql', 'admission', 'admit-sql.ts'))
  admit = mod.admitSql
})

afterAll(async () => {
  await client?.end()
  postgres?.stop()
})

describe('BIRD mini-dev PostgreSQL gold SQL', () => {
  it('every query Postgres can plan on the empty schemas is admitted by the gate', { timeout: 120_000 }, async () => {
    const gold = JSON.parse(readFileSync(join(data, 'mini_dev_postgresql.json'), 'utf8')) as Gold[]
    expect(gold.length).toBe(500)
    let planned = 0
    const refused: Record<number, string> = {}
    for (const q of gold) {
      const sql = q.SQL.replace(/[\s;]+$/u, '')
      await client.query(`BEGIN; SET LOCAL search_path = ${q.db_id}`)
      const plans = await client.query(`EXPLAIN ${sql}`).then(() => true, () => false)
      await client.query('ROLLBACK')
      if (!plans) continue
      planned++
      const verdict = await admit(sql)
      if (!verdict.ok) refused[q.question_id] = `${verdict.rule}: ${verdict.error}`
    }
    console.log(`BIRD mini-dev PostgreSQL: ${planned} of ${gold.length} plan on the empty schemas; the gate refuses ${Object.keys(refused).length} of them`)
    // The empty copy plans 496 (2026-12): the other 4 compare types the dump has differently.
    expect(planned).toBeGreaterThanOrEqual(490)
    expect(Object.fromEntries(Object.entries(refused).map(([id, why]) => [id, why.split(':')[0]]))).toEqual(KNOWN_REFUSALS)
  })
})
