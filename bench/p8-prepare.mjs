// P8: the work before the upstream call — KV read (pointer, then the gzip parts when the snapshot
// changed), decompress + parse + validate, the "cannot answer" check, schema linking + prompt build — for the 881-table
// Spider schema against the 6-table demo; the big one's link index built as a refresh builds it, with
// the synonym table and the row values of a generated database (eval/generated-values.mjs). Cold: the first request of an isolate after a change
// (everything); warm: later requests (the snapshot held in the isolate, no KV read: linking +
// prompt).
import { readFileSync } from 'node:fs'
import { importSource } from './lib/bundle.mjs'
import { spiderSnapshot } from './spider-snapshot.mjs'
import { summary } from './lib/stats.mjs'
import { introspectSql, spiderDatabaseSql } from '../eval/generated-values.mjs'

/** An in-memory KV with the methods the store uses (values as stored: strings or bytes). */
function memoryKv() {
  const data = new Map()
  return {
    async get(key, opts) {
      if (!data.has(key)) return null
      const v = data.get(key)
      const type = typeof opts === 'string' ? opts : opts?.type
      if (type === 'arrayBuffer') return typeof v === 'string' ? new TextEncoder().encode(v).buffer : v
      return typeof v === 'string' ? v : new TextDecoder().decode(v)
    },
    async put(key, value) {
      data.set(key, value instanceof ArrayBuffer ? value.slice(0) : value)
    },
    async delete(key) {
      data.delete(key)
    },
  }
}

export async function measurePrepare(repetitions) {
  const mod = await importSource('bench/lib/prepare-entry.ts')
  const big = mod.parseSnapshot(spiderSnapshot()).snapshot
  const small = mod.parseSnapshot(JSON.parse(readFileSync('src/demo/metro-snapshot.json', 'utf8'))).snapshot
  const questions = ['沈塘桥地铁站的信息', 'How many singers do we have?', 'What is the average, minimum, and maximum age of all singers from France?', 'What country is Jetblue Airways affiliated with?']
  // The big snapshot's tables are `<db_id>__<table>` in public: its values map onto them so.
  const dbs = JSON.parse(readFileSync('../shared/data/spider/tables.json', 'utf8'))
  const generated = await introspectSql(mod, spiderDatabaseSql(dbs), dbs.map((d) => d.db_id))
  const values = generated.values.map((v) => ({ ...v, schema: 'public', table: `${v.schema}__${v.table}`.toLowerCase() }))
  const linking = { synonyms: mod.parseSynonyms(readFileSync('public/linking/synonyms.txt', 'utf8')), values }
  const result = {}
  for (const [label, snapshot] of [['small', small], ['big', big]]) {
    const kv = memoryKv()
    let salt = 0
    const time = async (cold) => {
      // A cold read needs a body this isolate has not parsed: a new version each time, written as
      // by another isolate (the writing isolate holds what it wrote).
      if (cold) {
        await mod.saveSnapshot(kv, { ...snapshot, version: `${snapshot.version}-${++salt}` }, label === 'big' ? { linking } : {})
        mod.isolateSnapshots.forget()
      }
      const t0 = performance.now()
      const loaded = await mod.loadSnapshot(kv, { cacheTtlSeconds: 60 })
      const question = questions[salt % questions.length]
      // The "cannot answer" check runs before the prompt on every question (src/answer/answer-question.ts).
      mod.judgeAnswerable(loaded, question, 0.5)
      const prompt = mod.buildPrompt({ question, snapshot: loaded })
      return { ms: performance.now() - t0, chars: prompt.messages[0].content.length, tables: prompt.tables.length }
    }
    for (let i = 0; i < 3; i++) {
      await time(true)
      await time(false)
    }
    const cold = []
    const warm = []
    let last = { chars: 0, tables: 0 }
    for (let i = 0; i < repetitions; i++) {
      cold.push((await time(true)).ms)
      last = await time(false)
      warm.push(last.ms)
    }
    result[label] = { cold: summary(cold), warm: summary(warm), promptChars: last.chars, promptTables: last.tables, snapshotKB: JSON.stringify(snapshot).length / 1024 }
  }
  return { ...result, tables: big.tables.length, indexedValues: generated.stats.indexed_values }
}
