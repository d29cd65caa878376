// The SQL check's cost per answer through each way to the database, side by side in one run: what
// a user waits between the answer's last delta and the `sql` event (the first token does not wait
// for the database). The deployable bundles in workerd (Miniflare, scripts/run-built-worker.mjs)
// against one real PostgreSQL: the default build with the Neon driver through the local WebSocket
// relay (as npm start runs a local database), the Hyperdrive build with node-postgres through
// Miniflare's Hyperdrive binding (a direct TCP connection, as wrangler dev's), and the default
// build with SQL_CHECK=false — the floor of that gap. The ways take turns request by request.
//   node bench/sql-check-ways.mjs [--reps N]   (npm run bench runs it as the `sqlcheck` phase)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildWorker } from '../scripts/bundle-size.mjs'
import { localHyperdrives, writeDerivedConfig } from '../scripts/database-route.mjs'
import { startLocalPostgres } from '../scripts/local-postgres.mjs'
import { startBuiltWorker } from '../scripts/run-built-worker.mjs'
import { startFakeDashScope } from '../tools/fake-dashscope/server.mjs'
import { startWsRelay } from '../tools/ws-relay/relay.mjs'
import { post } from './lib/http-client.mjs'
import { BENCH_KEY } from './lib/service.mjs'
import { fmt, spread, summary } from './lib/stats.mjs'

const root = process.cwd()
const QUESTION = '沈塘桥地铁站的信息'

/** Milliseconds from the read that carried the last `delta` to the one that carried `sql`. */
async function checkGap(url) {
  let lastDelta = null
  let sqlAt = null
  let checked = null
  let tail = ''
  await post(`${url}/v1/ask`, { question: QUESTION }, {
    onChunk: (text, at) => {
      const seen = tail + text
      if (sqlAt === null && seen.includes('event: delta')) lastDelta = at
      const i = seen.indexOf('event: sql')
      if (sqlAt === null && i >= 0) {
        sqlAt = at
        checked = /"checked":true/.test(seen.slice(i))
      }
      tail = seen.slice(-16)
    },
  })
  if (lastDelta === null || sqlAt === null) throw new Error(`no delta/sql in the answer from ${url}`)
  return { gap: sqlAt - lastDelta, checked }
}

export async function measureSqlCheckWays({ reps = 60, log = () => {} } = {}) {
  const pg = await startLocalPostgres()
  const dirs = []
  const stops = [() => pg.stop()]
  try {
    pg.psql('CREATE DATABASE company')
    pg.psql(readFileSync(join(root, 'db/demo/metro.sql'), 'utf8'), 'company')
    pg.psql(readFileSync(join(root, 'test/fixtures/db/guard.sql'), 'utf8'), 'company')
    const owner = pg.url('postgres', 'postgres', 'company')
    const readonly = pg.url('txt2sql_ro', 'ro-pw', 'company')
    const fake = await startFakeDashScope({ apiKey: BENCH_KEY })
    stops.push(() => fake.close())
    const relay = await startWsRelay({ port: 0 })
    stops.push(() => relay.close())
    const build = (config) => {
      const outdir = mkdtempSync(join(tmpdir(), 'txt2sql-sqlcheck-'))
      dirs.push(outdir)
      return buildWorker({ root, outdir, config })
    }
    log('building the default and the Hyperdrive bundles')
    const neonDir = build()
    const derived = writeDerivedConfig(root, '.wrangler-bench.hyperdrive.jsonc', localHyperdrives(['HYPERDRIVE', 'HYPERDRIVE_READONLY']), 'bench/sql-check-ways.mjs')
    stops.push(() => rmSync(derived, { force: true }))
    const hyperdriveDir = build(derived)
    const upstream = { DASHSCOPE_API_KEY: BENCH_KEY, DASHSCOPE_BASE_URL: fake.url }
    const ways = {
      off: await startBuiltWorker({ root, outdir: neonDir, bindings: { ...upstream, DATABASE_URL: owner, NEON_WS_PROXY: relay.proxy, SQL_CHECK: 'false' } }),
      neon: await startBuiltWorker({ root, outdir: neonDir, bindings: { ...upstream, DATABASE_URL: owner, DATABASE_URL_READONLY: readonly, NEON_WS_PROXY: relay.proxy } }),
      hyperdrive: await startBuiltWorker({ root, outdir: hyperdriveDir, config: derived, hyperdriveOrigins: { HYPERDRIVE: owner, HYPERDRIVE_READONLY: readonly }, bindings: upstream }),
    }
    for (const w of Object.values(ways)) stops.push(() => w.dispose())
    for (const w of Object.values(ways)) await w.scheduled()
    const gaps = { off: [], neon: [], hyperdrive: [] }
    const names = Object.keys(ways)
    for (let i = 0; i < reps + 3; i++) {
      // Rotating order, so no way always follows the same one; the first three rounds warm up.
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]
        const { gap, checked } = await checkGap(ways[name].url)
        if (checked !== (name !== 'off')) throw new Error(`${name}: the sql event was ${checked ? '' : 'not '}checked`)
        if (i >= 3) gaps[name].push(gap)
      }
      if (i >= 3 && (i - 2) % 20 === 0) log(`${i - 2} of ${reps}`)
    }
    return Object.fromEntries(Object.entries(gaps).map(([name, values]) => [name, summary(values)]))
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve().then(stop).catch(() => {})
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}

/** The summary table's row. */
export function sqlCheckRow(r) {
  return [
    'SQL check per way (Miniflare)',
    'last delta → `sql` event at the client, the deployable bundles against one local PostgreSQL (bench/sql-check-ways.mjs): the Neon driver through the local WebSocket relay; node-postgres through the Hyperdrive binding; no check',
    `Neon way ${spread(r.neon)}; Hyperdrive way ${spread(r.hyperdrive)}; no check ${spread(r.off)}`,
    `check adds p50 ${fmt(r.neon.p50 - r.off.p50)} ms (Neon way) / ${fmt(r.hyperdrive.p50 - r.off.p50)} ms (Hyperdrive way)`,
    'reported side by side (no target)',
    '—',
  ]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--reps')
  const r = await measureSqlCheckWays({ reps: at >= 0 ? Number(process.argv[at + 1]) : 60, log: (m) => console.log(`[sqlcheck] ${m}`) })
  console.log(`| ${sqlCheckRow(r).join(' | ')} |`)
  process.exit(0)
}
