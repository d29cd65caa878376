#!/usr/bin/env node
// `npm start` / `npm run dev`: the worker under `wrangler dev`, on embedded defaults when nothing
// is configured — without DATABASE_URL, the embedded demo database (PGlite, db/demo/metro.sql);
// without a DashScope key, the bundled fake. Once the worker is up, the Cron Trigger's refresh
// runs (wrangler's /__scheduled) so questions are answered from a live introspection.
//
// The way to the database is scripts/database-route.mjs's to decide: DATABASE_URL on this machine
// gets a local WebSocket relay for the Neon driver (NEON_WS_PROXY); a Neon URL is used as it is;
// any other Postgres — or CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE — is reached
// through a Hyperdrive binding that wrangler dev connects straight to it.
//
// Every var (wrangler.toml [vars]) and secret (src/secret-names.ts) can be overridden from the
// environment, e.g.
//   PORT=9000 DASHSCOPE_BASE_URL=http://127.0.0.1:9999 DASHSCOPE_API_KEY=x API_KEYS=k npm run dev
// Overrides (and .dev.vars) reach the worker through a private env file, never the command line,
// so wrangler does not print secrets in its bindings table.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startFakeDashScope } from '../tools/fake-dashscope/server.mjs'
import { startWsRelay } from '../tools/ws-relay/relay.mjs'
import { chooseDatabaseRoute, startDatabaseRoute } from './database-route.mjs'
import { startDemoDatabase } from './demo-database.mjs'
import { overridesFrom, settingNames } from './dev-settings.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

const DEV_HEARTBEAT_MS = 250
const port = Number(process.env.PORT || 8787)
const persistTo = process.env.WRANGLER_PERSIST_TO || join(root, '.wrangler', 'state')
const vars = { ...readDevVars(join(root, '.dev.vars')), ...overridesFrom(process.env, settingNames(root)) }
// Under wrangler dev the request reaches the worker through Miniflare's entry worker, which does
// not pass on the request's abort signal: a client that leaves is seen only when a write to it
// fails — the second write after it left. Frequent keep-alive comments while DashScope is quiet
// make that under a second whatever the upstream does (in production the signal does it).
vars.HEARTBEAT_INTERVAL_MS ??= String(DEV_HEARTBEAT_MS)

let fake
if (!vars.DASHSCOPE_API_KEY) {
  fake = await startFakeDashScope({ port: Number(process.env.FAKE_DASHSCOPE_PORT || 0), apiKey: 'fake-key' })
  vars.DASHSCOPE_API_KEY = 'fake-key'
  vars.DASHSCOPE_BASE_URL = fake.url
  // The model name tells every caller (in `meta` and /healthz) that the answers are canned.
  vars.DASHSCOPE_MODEL = `fake-${vars.DASHSCOPE_MODEL || 'qwen-plus'}`
  console.log(`[dev] no DASHSCOPE_API_KEY: answering with the fake DashScope at ${fake.url}`)
}

// ---- The way to the business database (scripts/database-route.mjs) ----
const database = await startDatabaseRoute(chooseDatabaseRoute(vars, process.env), {
  root, persistTo, startDemoDatabase, startWsRelay, log: console.log, demoDir: process.env.DEMO_DB_DIR, relayPort: Number(process.env.WS_RELAY_PORT || 0),
})
for (const [name, value] of Object.entries(database.settings)) value === undefined ? delete vars[name] : (vars[name] = value)
console.log(`[dev] database: ${database.description}`)
// ----

const envFile = join(root, '.wrangler', 'dev.env')
mkdirSync(dirname(envFile), { recursive: true })
writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(String(v))}`).join('\n') + '\n')
chmodSync(envFile, 0o600)

const wrangler = spawn(
  process.execPath,
  [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', '--ip', '127.0.0.1', '--port', String(port),
    '--persist-to', persistTo, '--env-file', envFile, '--show-interactive-dev-session=false', '--test-scheduled', ...database.wranglerArgs],
  { cwd: root, stdio: 'inherit', env: { ...process.env, ...database.wranglerEnv, WRANGLER_SEND_METRICS: 'false' } },
)
const closeAll = async () => {
  await Promise.allSettled([fake?.close(), database.close()])
}
const stop = (signal) => {
  wrangler.kill(signal)
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
wrangler.on('exit', async (code) => {
  await closeAll()
  process.exit(code ?? 0)
})

const ready = await refreshOnceUp()
if (ready) {
  console.log(`[dev] txt2sql-edge is ready on http://127.0.0.1:${port} — try:
  curl -N http://127.0.0.1:${port}/v1/ask -H 'content-type: application/json'${vars.API_KEYS ? " -H 'authorization: Bearer <key>'" : ''} -d '{"question":"沈塘桥地铁站的信息"}'`)
}

/**
 * Runs the Cron Trigger once the worker answers, then waits until /healthz says ready (200): the
 * banner above is printed only then, so nobody's first question meets an empty schema cache.
 * Returns whether the service became ready; if not, says why and keeps serving (an admin upload
 * or refresh can still fill the cache).
 */
async function refreshOnceUp() {
  const base = `http://127.0.0.1:${port}`
  const health = async () => {
    const res = await fetch(`${base}/healthz`)
    return { status: res.status, body: await res.json() }
  }
  const deadline = Date.now() + 90_000
  let up = false
  while (!up && Date.now() < deadline && wrangler.exitCode === null) {
    // Up means the worker answers /healthz at all: 200 (ready) or 503 (not ready yet).
    up = await health().then(() => true, () => false)
    if (!up) await new Promise((r) => setTimeout(r, 250))
  }
  if (!up) {
    console.log('[dev] the worker did not come up (see wrangler\'s output above)')
    return false
  }
  try {
    await (await fetch(`${base}/__scheduled?cron=${encodeURIComponent('17 * * * *')}`)).arrayBuffer()
    const { status, body } = await health()
    if (status === 200) {
      console.log(`[dev] schema cache: ${body.schema_version}`)
      return true
    }
    const why = (body.reasons ?? []).map((r) => `${r.code}: ${r.message}`).join('; ')
    console.log(`[dev] not ready — ${why}. The schema refresh may have failed (see the worker log above): fix DATABASE_URL and POST /v1/admin/schema/refresh, or PUT /v1/admin/schema; /healthz turns 200 when ready`)
  } catch (err) {
    console.log(`[dev] could not run the schema refresh: ${err.message}`)
  }
  return false
}

function readDevVars(path) {
  if (!existsSync(path)) return {}
  const out = {}
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/i.exec(line)
    if (!m) continue
    let v = m[2]
    if (/^".*"$|^'.*'$/.test(v)) v = v.slice(1, -1)
    out[m[1]] = v
  }
  return out
}
