// Row values for the value index where the public sets ship none: real databases in PGlite
// (Postgres in WebAssembly), read by the service's own introspection (src/db/introspect.ts) with
// its default bounds. Two of them:
// - the demo metro database (db/demo/metro.sql), as `npm start` serves it;
// - a large generated one: every table of the merged Spider schema (166 databases, 876 tables) as a
//   Postgres schema per database, 40 rows each, its text columns filled by @faker-js/faker (seeded)
//   with realistic values chosen by the column's name (airline names for `Airline`, languages for
//   `Language`, people for a `Name` in a people-like table …). Nothing comes from the questions or
//   their gold SQL: whether a question's value is among the rows is left to chance, as in life.
import { PGlite } from '@electric-sql/pglite'
import { faker } from '@faker-js/faker'
import { readFileSync } from 'node:fs'

const q = (name) => `"${String(name).replace(/"/g, '""')}"`
const lit = (v) => (v === null ? 'NULL' : `'${String(v).replace(/'/g, "''")}'`)

/** The service's Db (src/db/connect.ts) over PGlite: `query` with parameters, `batch` of several statements. */
function asDb(pg) {
  return {
    query: async (text, values) => (await pg.query(text, values)).rows,
    batch: async (text) => pg.exec(text),
    single: async () => {
      throw new Error('not used by introspection')
    },
    end: async () => {},
  }
}

const PEOPLE = /(people|person|student|employee|staff|teacher|singer|player|artist|author|customer|driver|member|actor|director|musician|pilot|manager|editor|host|journalist|candidate|representative|conductor|architect|engineer|scientist|physician|doctor|patient|owner|user|captain|gymnast|wrestler|climber|perpetrator|friend|highschooler|professor|faculty|instructor|technician|mechanic|poker_player|head|chairman|people|individual|client|guest|visitor|resident)/

/** A generator of realistic text for a column, by its name (and its table's). */
function textFor(table, column) {
  const c = column.toLowerCase()
  const t = table.toLowerCase()
  const pool = (make, size) => {
    const values = Array.from({ length: size }, make)
    return () => faker.helpers.arrayElement(values)
  }
  if (/airline/.test(c)) return () => faker.airline.airline().name
  if (/airport/.test(c)) return () => faker.airline.airport().name
  if (/language/.test(c)) return () => faker.location.language().name
  if (/continent/.test(c)) return () => faker.location.continent()
  if (/countr|nation/.test(c)) return () => faker.location.country()
  if (/city|town/.test(c)) return () => faker.location.city()
  if (/state|region|district|county|province/.test(c)) return () => faker.location.state()
  if (/address|street|location/.test(c)) return () => faker.location.streetAddress()
  if (/mail/.test(c)) return () => faker.internet.email()
  if (/phone|fax|cell/.test(c)) return () => faker.phone.number()
  if (/first|fname|given/.test(c)) return () => faker.person.firstName()
  if (/last|lname|surname|family/.test(c)) return () => faker.person.lastName()
  if (/gender|sex/.test(c)) return () => faker.person.sex()
  if (/colou?r/.test(c)) return () => faker.color.human()
  if (/song|track/.test(c) || (/title|name/.test(c) && /song|music|track/.test(t))) return () => faker.music.songName()
  if (/genre/.test(c)) return () => faker.music.genre()
  if (/title/.test(c)) return () => faker.book.title()
  if (/date|time|year|day/.test(c)) return () => faker.date.past({ years: 30 }).toISOString().slice(0, 10)
  if (/descr|detail|comment|note|summary|text|content|review/.test(c)) return () => faker.lorem.sentence()
  if (/code|abbrev|id$/.test(c)) return () => faker.string.alpha({ length: 3, casing: 'upper' })
  if (/type|status|category|kind|class|level|role|position|style|method|result|mode/.test(c)) return pool(() => faker.word.noun(), 5)
  if (/name/.test(c)) return PEOPLE.test(t) ? () => faker.person.fullName() : () => faker.company.name()
  return () => faker.word.words(2)
}

/** The merged Spider schema as SQL: one Postgres schema per database, `rows` rows per table, then ANALYZE. */
export function spiderDatabaseSql(dbs, rows = 40, seed = 14) {
  faker.seed(seed)
  const out = []
  for (const db of dbs) {
    out.push(`CREATE SCHEMA ${q(db.db_id)};`)
    db.table_names_original.forEach((table, t) => {
      const cols = db.column_names_original.map(([ti, name], i) => ({ ti, name, type: db.column_types[i] })).filter((c) => c.ti === t)
      if (!cols.length) return
      const seen = new Set()
      const unique = cols.filter((c) => !seen.has(c.name.toLowerCase()) && seen.add(c.name.toLowerCase()))
      const sqlType = (type) => (type === 'number' ? 'integer' : type === 'time' ? 'date' : type === 'boolean' ? 'boolean' : 'text')
      out.push(`CREATE TABLE ${q(db.db_id)}.${q(table)} (${unique.map((c) => `${q(c.name)} ${sqlType(c.type)}`).join(', ')});`)
      const makers = unique.map((c) =>
        c.type === 'number' ? () => faker.number.int({ max: 10000 }) : c.type === 'time' ? () => faker.date.past({ years: 30 }).toISOString().slice(0, 10) : c.type === 'boolean' ? () => faker.datatype.boolean() : textFor(table, c.name),
      )
      const values = Array.from({ length: rows }, () => `(${makers.map((m) => lit(m())).join(', ')})`)
      out.push(`INSERT INTO ${q(db.db_id)}.${q(table)} VALUES ${values.join(', ')};`)
    })
  }
  out.push('ANALYZE;')
  return out.join('\n')
}

/** Loads SQL into a fresh in-memory PGlite and introspects it as a refresh does (default bounds). */
export async function introspectSql(mod, sql, schemas, opts = {}) {
  const pg = await PGlite.create()
  try {
    const t0 = performance.now()
    await pg.exec(sql)
    const loadMs = performance.now() - t0
    const t1 = performance.now()
    const found = await mod.introspect(asDb(pg), {
      schemas,
      sampleValues: opts.sampleValues ?? 5,
      sampleBudgetMs: opts.sampleBudgetMs ?? 10_000,
      indexValues: opts.indexValues ?? 1000,
      indexValuesTotal: opts.indexValuesTotal ?? 20_000,
    })
    return { ...found, loadMs, introspectMs: performance.now() - t1 }
  } finally {
    await pg.close()
  }
}

export function metroSql() {
  return readFileSync('db/demo/metro.sql', 'utf8')
}
