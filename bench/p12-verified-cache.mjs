#!/usr/bin/env node
// P12: a repeated question (the answer cache) and a verified answer (an approved example), side by
// side with a model answer in the same run: time to the `sql` event and to `done`, and the tokens
// counted — and the SQL check and run alone (`POST /v1/sql` of the same SQL), which the target
// measures the two against ("no more than the SQL check itself"). The built Worker (as `npm run deploy -- --dry-run` builds it) in Miniflare, a real local
// Postgres with the demo database (a read-only login runs the rows), the fake DashScope writing its
// answer at a realistic pace (20 ms per event). Run once: `node bench/p12-verified-cache.mjs [N]`.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createParser } from 'eventsource-parser'
import { startLocalPostgres } from '../scripts/local-postgres.mjs'
import { startBuiltWorker } from '../scripts/run-built-worker.mjs'
import { startFakeDashScope } from '../tools/fake-dashscope/server.mjs'
import { startWsRelay } from '../tools/ws-relay/relay.mjs'

const root = join(fileURLToPath(import.meta.url), '..', '..')
const N = Number(process.argv[2] ?? 15)
const KEY = 'bench-key'

const pg = await startLocalPostgres()
pg.psql('CREATE DATABASE company')
pg.psql(readFileSync(join(root, 'db/demo/metro.sql'), 'utf8'), 'company')
pg.psql(readFileSync(join(root, 'test/fixtures/db/guard.sql'), 'utf8'), 'company')
const fake = await startFakeDashScope({ apiKey: KEY })
fake.setDefaultOptions('pace=20')
const relay = await startWsRelay({ port: 0 })
const dir = mkdtempSync(join(tmpdir(), 'p12-'))
let worker
try {
  const built = spawnSync(process.execPath, [join(root, 'scripts/deploy.mjs'), '--dry-run', '--outdir', dir], { cwd: root, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } })
  if (built.status !== 0) throw new Error(built.stdout + built.stderr)
  worker = await startBuiltWorker({
    root,
    outdir: dir,
    bindings: {
      DASHSCOPE_API_KEY: KEY,
      DASHSCOPE_BASE_URL: fake.url,
      DATABASE_URL: pg.url('postgres', 'postgres', 'company'),
      DATABASE_URL_READONLY: pg.url('txt2sql_ro', 'ro-pw', 'company'),
      NEON_WS_PROXY: relay.proxy,
      SQL_EXECUTE: 'true',
      ADMIN_TOKEN: 'bench-admin',
      ANSWER_CACHE_TTL_SECONDS: '600',
    },
  })
  const url = worker.url
  const imported = await fetch(`${url}/v1/admin/examples?refresh=true`, {
    method: 'POST',
    headers: { authorization: 'Bearer bench-admin', 'content-type': 'application/json' },
    body: JSON.stringify([{ question: '沈塘桥地铁站的信息', sql: "SELECT * FROM stations WHERE name LIKE '%沈塘桥%'" }]),
  })
  if (imported.status !== 201) throw new Error(`import: ${imported.status} ${await imported.text()}`)

  /** The SQL an answer to `question` ends with (its `sql` event). */
  const lastSql = async (question) => {
    const res = await fetch(`${url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) })
    let sql = null
    const parser = createParser({ onEvent: (e) => e.event === 'sql' && (sql = JSON.parse(e.data).sql) })
    const decoder = new TextDecoder()
    for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }))
    if (!sql) throw new Error(`no SQL for ${question}`)
    return sql
  }
  const ask = async (body) => {
    const started = performance.now()
    const res = await fetch(`${url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ execute: true, ...body }) })
    const times = { sql: null, done: null, tokens: 0, kind: 'model' }
    const parser = createParser({
      onEvent: (e) => {
        const data = JSON.parse(e.data)
        if (e.event === 'meta') times.kind = data.verified ? 'verified' : data.cached ? 'cached' : 'model'
        if (e.event === 'sql') times.sql = performance.now() - started
        if (e.event === 'usage') times.tokens += data.total_tokens
        if (e.event === 'done') times.done = performance.now() - started
      },
    })
    const decoder = new TextDecoder()
    for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }))
    return times
  }
  /** The same SQL checked and run through POST /v1/sql: the check the cache and verified paths still pay. */
  const checkAlone = async (sql) => {
    const started = performance.now()
    const res = await fetch(`${url}/v1/sql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql, execute: true }) })
    const body = await res.json()
    if (!body.check?.ok) throw new Error(`check alone: ${JSON.stringify(body.check)}`)
    const ms = performance.now() - started
    return { sql: ms, done: ms, tokens: 0, kind: 'check' }
  }
  // Warm-up: the isolate, the snapshot, the first cached answer.
  await ask({ question: '换乘站有哪些' })
  await ask({ question: '沈塘桥地铁站的信息' })
  await new Promise((r) => setTimeout(r, 300))
  const runs = { model: [], cached: [], verified: [], 'check alone (cached SQL)': [], 'check alone (verified SQL)': [] }
  const cachedSql = await lastSql('换乘站有哪些')
  for (let i = 0; i < N; i++) {
    runs.model.push(await ask({ question: '换乘站有哪些', cache: false }))
    runs.cached.push(await ask({ question: '换乘站有哪些' }))
    runs.verified.push(await ask({ question: '沈塘桥地铁站的信息' }))
    runs['check alone (cached SQL)'].push(await checkAlone(cachedSql))
    runs['check alone (verified SQL)'].push(await checkAlone("SELECT * FROM stations WHERE name LIKE '%沈塘桥%'"))
  }
  const p = (values, q) => {
    const v = values.slice().sort((a, b) => a - b)
    return v[Math.min(v.length - 1, Math.floor(q * v.length))]
  }
  console.log(`P12 — ${N} rounds, each: a model answer ("cache": false), the same question again (cached), an approved example's question (verified), and each one's SQL checked and run alone (POST /v1/sql); execute on; DashScope fake paced 20 ms/event`)
  console.log('| path | kind seen | time to `sql` p50 / p90 | time to `done` p50 / p90 | tokens per answer |')
  console.log('|---|---|---|---|---|')
  for (const [name, list] of Object.entries(runs)) {
    const kinds = [...new Set(list.map((r) => r.kind))].join(', ')
    const f = (x) => `${x.toFixed(1)} ms`
    console.log(`| ${name} | ${kinds} | ${f(p(list.map((r) => r.sql), 0.5))} / ${f(p(list.map((r) => r.sql), 0.9))} | ${f(p(list.map((r) => r.done), 0.5))} / ${f(p(list.map((r) => r.done), 0.9))} | ${Math.round(list.reduce((n, r) => n + r.tokens, 0) / list.length)} |`)
  }
} finally {
  await worker?.dispose()
  await fake.close()
  await relay.close()
  pg.stop()
  rmSync(dir, { recursive: true, force: true })
}
