// The memory one query may cost the worker, the guard of today against the old one (commit
// a45a2f0: rows fetched whole, then capped in JavaScript), in one run: workerd's resident-memory
// growth for a query returning 10 × SQL_MAX_RESULT_BYTES, for one value of 40 MB, and for the huge
// constant `SELECT repeat('x', 60000000)` (a check only: Postgres folds it into the plan), each
// through POST /v1/sql on a fresh worker; then the latency the cursor path adds to a normal
// 10-row run. The old guard is today's tree with src/db/guarded-sql.ts as it was at a45a2f0 — a
// temporary git worktree of that commit, built the same way (the deployable default bundle, the
// Neon driver through the local WebSocket relay, Miniflare) — so only the guard differs.
// Growth = workerd's peak RSS (VmHWM, /proc/<pid>/status, reset just before) during the query − its
// RSS before it, after a warm-up query: what one request holds at its worst.
//   node bench/sql-memory.mjs [--reps N]   (npm run bench runs it as the `sqlmem` phase)
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildWorker } from '../scripts/bundle-size.mjs'
import { startLocalPostgres } from '../scripts/local-postgres.mjs'
import { startBuiltWorker } from '../scripts/run-built-worker.mjs'
import { startWsRelay } from '../tools/ws-relay/relay.mjs'
import { workerdPids } from './lib/service.mjs'
import { fmt, spread, summary } from './lib/stats.mjs'

const root = process.cwd()
export const OLD_GUARD_COMMIT = 'a45a2f0'
const MAX_RESULT_BYTES = 1_048_576

/** The queries measured: what each returns, and whether it is run or only checked. */
export const SCENARIOS = [
  { name: 'rows', label: '10 × SQL_MAX_RESULT_BYTES of rows (100 rows of 100 KiB)', sql: 'SELECT g, repeat(md5(g::text), 3200) AS pad FROM generate_series(1, 100) g', execute: true },
  // Built at run time by an aggregate, which never folds: the admission gate admits it, and only
  // the run's bound stands between its 8 MB values and the worker (`repeat(g::text, 8000000)`
  // is refused by the gate since it landed: a column-driven count is bounded as a constant).
  { name: 'value', label: 'one 40 MB value (5 rows of 8 MB)', sql: "SELECT string_agg(md5(i::text), '') AS v FROM generate_series(1, 1250000) i GROUP BY i % 5", execute: true },
  { name: 'constant', label: "the huge constant `SELECT repeat('x', 60000000)` (checked)", sql: "SELECT repeat('x', 60000000) AS big", execute: false },
]

const kib = (pid, field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)

async function postSql(url, sql, execute) {
  const t0 = performance.now()
  const res = await fetch(`${url}/v1/sql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql, execute }) })
  const body = await res.json()
  return { ms: performance.now() - t0, status: res.status, body }
}

/** What the answer said, in a few words, for the table. */
function outcome({ status, body }) {
  if (status !== 200) return `${status} ${body?.error?.code ?? ''}`.trim()
  if (!body.check.ok) return `check refused (${String(body.check.error).slice(0, 60)}…)`
  if (!body.result) return 'checked'
  if (!body.result.ok) return `${body.result.code}: ${String(body.result.error).slice(0, 60)}`
  return `${body.result.row_count} rows${body.result.truncated ? ', truncated' : ''}`
}

export async function measureSqlMemory({ reps = 40, log = () => {} } = {}) {
  const stops = []
  const dirs = []
  try {
    const pg = await startLocalPostgres()
    stops.push(() => pg.stop())
    pg.psql('CREATE DATABASE company')
    pg.psql(readFileSync(join(root, 'db/demo/metro.sql'), 'utf8'), 'company')
    pg.psql(readFileSync(join(root, 'test/fixtures/db/guard.sql'), 'utf8'), 'company')
    const relay = await startWsRelay({ port: 0 })
    stops.push(() => relay.close())
    const bindings = {
      DATABASE_URL: pg.url('postgres', 'postgres', 'company'),
      DATABASE_URL_READONLY: pg.url('txt2sql_ro', 'ro-pw', 'company'),
      NEON_WS_PROXY: relay.proxy,
      SQL_EXECUTE: 'true',
      SQL_MAX_RESULT_BYTES: String(MAX_RESULT_BYTES),
      SQL_EXECUTE_TIMEOUT_MS: '20000',
      SQL_CHECK_TIMEOUT_MS: '20000',
    }
    // The old guard: a worktree of the old commit with today's node_modules (the same lock file).
    const oldRoot = mkdtempSync(join(tmpdir(), 'txt2sql-oldguard-'))
    rmSync(oldRoot, { recursive: true, force: true })
    execFileSync('git', ['worktree', 'add', '--detach', oldRoot, OLD_GUARD_COMMIT], { cwd: root, stdio: 'pipe' })
    stops.push(() => execFileSync('git', ['worktree', 'remove', '--force', oldRoot], { cwd: root, stdio: 'pipe' }))
    symlinkSync(join(root, 'node_modules'), join(oldRoot, 'node_modules'))
    const build = (from) => {
      const outdir = mkdtempSync(join(tmpdir(), 'txt2sql-sqlmem-'))
      dirs.push(outdir)
      return buildWorker({ root: from, outdir })
    }
    log(`building today's bundle and the old guard's (${OLD_GUARD_COMMIT})`)
    const ways = { old: build(oldRoot), cursor: build(root) }
    const start = (way) => startBuiltWorker({ root, outdir: ways[way], bindings })

    const memory = {}
    for (const scenario of SCENARIOS) {
      for (const way of ['old', 'cursor']) {
        // A fresh worker per query, alone under this process: its peak belongs to this query.
        const worker = await start(way)
        try {
          await postSql(worker.url, 'SELECT id, name FROM stations ORDER BY id LIMIT 10', true)
          const [pid] = workerdPids(process.pid)
          // The peak starts again here (Linux: 5 → clear_refs resets VmHWM to the current RSS): a
          // transient peak of the warm-up (compiling the SQL parser's WASM) is not this query's.
          writeFileSync(`/proc/${pid}/clear_refs`, '5')
          const before = kib(pid, 'VmRSS')
          const answer = await postSql(worker.url, scenario.sql, scenario.execute)
          const peak = kib(pid, 'VmHWM')
          const alive = await postSql(worker.url, 'SELECT 1 AS one', true).then((r) => r.status === 200 && r.body.result?.ok === true, () => false)
          memory[`${scenario.name}:${way}`] = { growthMiB: (peak - before) / 1024, outcome: outcome(answer), ms: answer.ms, alive }
          log(`${scenario.name}, ${way} guard: +${fmt((peak - before) / 1024, 1)} MiB, ${outcome(answer)}, ${fmt(answer.ms, 0)} ms${alive ? '' : ', the worker stopped answering'}`)
        } finally {
          await worker.dispose()
        }
      }
    }

    log(`latency of a normal 10-row run, ${reps} each, the two guards taking turns`)
    const old = await start('old')
    const cursor = await start('cursor')
    stops.push(() => old.dispose(), () => cursor.dispose())
    const ms = { old: [], cursor: [] }
    const sql = 'SELECT id, name FROM stations ORDER BY id LIMIT 10'
    for (let i = 0; i < reps + 5; i++) {
      for (const [name, w] of i % 2 ? [['old', old], ['cursor', cursor]] : [['cursor', cursor], ['old', old]]) {
        const r = await postSql(w.url, sql, true)
        if (r.body.result?.row_count !== 10) throw new Error(`${name}: ${JSON.stringify(r.body).slice(0, 200)}`)
        if (i >= 5) ms[name].push(r.ms)
      }
    }
    return { memory, latency: { old: summary(ms.old), cursor: summary(ms.cursor) }, maxResultBytes: MAX_RESULT_BYTES }
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve().then(stop).catch(() => {})
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}

/** The summary table's row. */
export function sqlMemoryRow(r) {
  const m = (s, way) => `${fmt(r.memory[`${s}:${way}`].growthMiB, 0)} MiB`
  return [
    'P11 memory per query (Miniflare)',
    'workerd peak RSS growth for one POST /v1/sql, the cursor guard against the old one (a45a2f0), SQL_MAX_RESULT_BYTES = 1 MiB (bench/sql-memory.mjs)',
    `10 × the cap: ${m('rows', 'cursor')} (old ${m('rows', 'old')}); a 40 MB value: ${m('value', 'cursor')} (old ${m('value', 'old')}); huge constant, check: ${m('constant', 'cursor')} (old ${m('constant', 'old')}); 10-row run ${spread(r.latency.cursor)} (old ${spread(r.latency.old)})`,
    `runs: +${fmt(r.memory['rows:cursor'].growthMiB, 0)} / +${fmt(r.memory['value:cursor'].growthMiB, 0)} MiB (old +${fmt(r.memory['rows:old'].growthMiB, 0)} / +${fmt(r.memory['value:old'].growthMiB, 0)}); the huge constant +${fmt(r.memory['constant:cursor'].growthMiB, 0)} MiB, refused by the gate before any connection (old +${fmt(r.memory['constant:old'].growthMiB, 0)}); the cursor adds p50 ${fmt(r.latency.cursor.p50 - r.latency.old.p50)} ms to a 10-row run`,
    '≤ 2 × SQL_MAX_RESULT_BYTES + a constant (8 MiB) for the runs',
    r.memory['rows:cursor'].growthMiB <= 2 * (r.maxResultBytes / 1_048_576) + 8 && r.memory['value:cursor'].growthMiB <= 2 * (r.maxResultBytes / 1_048_576) + 8 ? 'met' : '**missed**',
  ]
}

/** The section's table: each query, each guard. */
export function sqlMemoryTable(r) {
  const lines = ['| query | guard | workerd growth | answer | time |', '|---|---|---|---|---|']
  for (const s of SCENARIOS) {
    for (const way of ['old', 'cursor']) {
      const x = r.memory[`${s.name}:${way}`]
      lines.push(`| ${s.label} | ${way === 'old' ? `old (${OLD_GUARD_COMMIT})` : 'cursor'} | +${fmt(x.growthMiB, 1)} MiB | ${x.outcome}${x.alive ? '' : '; the worker stopped answering'} | ${fmt(x.ms, 0)} ms |`)
    }
  }
  lines.push(`| 10-row run (p50, p10–p90) | old / cursor | — | 10 rows | ${spread(r.latency.old)} / ${spread(r.latency.cursor)} |`)
  return lines.join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--reps')
  const r = await measureSqlMemory({ reps: at >= 0 ? Number(process.argv[at + 1]) : 40, log: (m) => console.log(`[sqlmem] ${m}`) })
  console.log(sqlMemoryTable(r))
  console.log(`| ${sqlMemoryRow(r).join(' | ')} |`)
  process.exit(0)
}
