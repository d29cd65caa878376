// The admission gate's cost (issue 30): Postgres's parser (libpg-query, WASM) loaded once, then
// parse + admit per query over BIRD mini-dev's PostgreSQL gold SQL (../shared/data/bird, 500
// queries), in Node through the same bundle eval:live uses. Prints the load time and the per-query
// p50/p99, and the hostile corpus's too. `node bench/gate-latency.mjs [rounds]`
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { importSource } from './lib/bundle.mjs'
import { spread, summary } from './lib/stats.mjs'

const root = process.cwd()
const rounds = Number(process.argv[2] || 5)
const gold = JSON.parse(readFileSync(join(root, '..', 'shared', 'data', 'bird', 'mini_dev_postgresql.json'), 'utf8')).map((q) => q.SQL.replace(/[\s;]+$/u, ''))
const parser = await importSource(join(root, 'src', 'sql', 'admission', 'pg-parser.ts'))
const gate = await importSource(join(root, 'src', 'sql', 'admission', 'admit-sql.ts'))

let started = performance.now()
await parser.loadParser()
const ownLoad = performance.now() - started
// The gate bundle has its own copy of the parser module: load it (timed) before measuring admits.
started = performance.now()
await gate.admitSql('SELECT 1')
const load = performance.now() - started

const times = []
let refused = 0
for (let r = 0; r < rounds; r++) {
  for (const sql of gold) {
    const t = performance.now()
    const verdict = gate.admitParsedSql(sql)
    times.push(performance.now() - t)
    if (r === 0 && !verdict.ok) refused++
  }
}
console.log(`parser load (first use in an isolate): ${ownLoad.toFixed(2)} ms; a second bundle's load: ${load.toFixed(2)} ms`)
console.log(`parse + admit per BIRD query (${gold.length} queries × ${rounds}): ${spread(summary(times))}; refused ${refused}`)
