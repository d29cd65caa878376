// Spider 1.0's 167 schemas (shared/data/spider/tables.json) as one snapshot: 881 tables named
// <db_id>__<table>, with types, primary and foreign keys — the "enterprise" schema of P8.
import { readFileSync } from 'node:fs'

const TYPES = { text: 'text', number: 'numeric', time: 'timestamp', boolean: 'boolean', others: 'text' }

export function spiderSnapshot(path = '../shared/data/spider/tables.json') {
  const dbs = JSON.parse(readFileSync(path, 'utf8'))
  const tables = []
  for (const db of dbs) {
    const name = (t) => `${db.db_id}__${db.table_names_original[t]}`.toLowerCase()
    const columnsOf = db.table_names_original.map(() => [])
    db.column_names_original.forEach(([t, col], i) => {
      if (t < 0) return
      columnsOf[t].push({ name: col, type: TYPES[db.column_types[i]] ?? 'text', comment: db.column_names[i][1] !== col.toLowerCase() ? db.column_names[i][1] : undefined, index: i })
    })
    const pkOf = new Map(db.primary_keys.flat().map((i) => [i, true]))
    db.table_names_original.forEach((_, t) => {
      if (columnsOf[t].length === 0) return
      const fks = db.foreign_keys
        .filter(([from]) => db.column_names_original[from][0] === t)
        .map(([from, to]) => ({ columns: [db.column_names_original[from][1]], ref_table: name(db.column_names_original[to][0]), ref_columns: [db.column_names_original[to][1]] }))
      tables.push({
        name: name(t),
        comment: db.table_names[t] !== db.table_names_original[t].toLowerCase() ? db.table_names[t] : undefined,
        columns: columnsOf[t].map(({ index, ...c }) => c),
        primary_key: columnsOf[t].filter((c) => pkOf.has(c.index)).map((c) => c.name),
        foreign_keys: fks,
      })
    })
  }
  return { version: 'spider-merged', source: 'upload', tables, examples: [] }
}
