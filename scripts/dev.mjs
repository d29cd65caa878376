#!/usr/bin/env node
// `npm start` / `npm run dev`: the worker under `wrangler dev`, on embedded defaults when nothing
// is configured — the demo schema in local KV and, without a DashScope key, the bundled fake.
//
// Every var and secret can be overridden from the environment, e.g.
//   PORT=9000 DASHSCOPE_BASE_URL=http://127.0.0.1:9999 DASHSCOPE_API_KEY=x API_KEYS=k npm run dev
// Overrides (and .dev.vars) reach the worker through a private env file, never the command line,
// so wrangler does not print secrets in its bindings table.
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startFakeDashScope } from '../tools/fake-dashscope/server.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const PASSED = [
  'DASHSCOPE_API_KEY', 'DASHSCOPE_BASE_URL', 'DASHSCOPE_MODEL', 'DASHSCOPE_PROTOCOL', 'DASHSCOPE_ENABLE_THINKING',
  'API_KEYS', 'ADMIN_TOKEN', 'CORS_ORIGINS', 'DATABASE_URL', 'NEON_WS_PROXY', 'DB_SCHEMAS',
  'UPSTREAM_IDLE_TIMEOUT_MS', 'HEARTBEAT_INTERVAL_MS', 'MAX_BODY_BYTES', 'MAX_SNAPSHOT_BYTES', 'MAX_QUESTION_CHARS',
  'MAX_HISTORY_TURNS', 'MAX_UPSTREAM_EVENT_BYTES', 'LOG_QUESTIONS', 'SCHEMA_CACHE_TTL_SECONDS',
]

const port = Number(process.env.PORT || 8787)
const persistTo = process.env.WRANGLER_PERSIST_TO || join(root, '.wrangler', 'state')
const vars = { ...readDevVars(join(root, '.dev.vars')) }
for (const name of PASSED) if (process.env[name] !== undefined) vars[name] = process.env[name]

let fake
if (!vars.DASHSCOPE_API_KEY) {
  fake = await startFakeDashScope({ port: Number(process.env.FAKE_DASHSCOPE_PORT || 0), apiKey: 'fake-key' })
  vars.DASHSCOPE_API_KEY = 'fake-key'
  vars.DASHSCOPE_BASE_URL = fake.url
  // The model name tells every caller (in `meta` and /healthz) that the answers are canned.
  vars.DASHSCOPE_MODEL = `fake-${vars.DASHSCOPE_MODEL || 'qwen-plus'}`
  console.log(`[dev] no DASHSCOPE_API_KEY: answering with the fake DashScope at ${fake.url}`)
}

seedDemoSnapshot()

const envFile = join(root, '.wrangler', 'dev.env')
mkdirSync(dirname(envFile), { recursive: true })
writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(String(v))}`).join('\n') + '\n')
chmodSync(envFile, 0o600)

const wrangler = spawn(
  process.execPath,
  [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev', '--ip', '127.0.0.1', '--port', String(port),
    '--persist-to', persistTo, '--env-file', envFile, '--show-interactive-dev-session=false'],
  { cwd: root, stdio: 'inherit', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
)
console.log(`[dev] txt2sql-edge on http://127.0.0.1:${port} — try:
  curl -N http://127.0.0.1:${port}/v1/ask -H 'content-type: application/json'${vars.API_KEYS ? " -H 'authorization: Bearer <key>'" : ''} -d '{"question":"沈塘桥地铁站的信息"}'`)

const stop = async (signal) => {
  wrangler.kill(signal)
  await fake?.close()
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
wrangler.on('exit', async (code) => {
  await fake?.close()
  process.exit(code ?? 0)
})

/** Puts the bundled demo snapshot into local KV unless a snapshot is there already. */
function seedDemoSnapshot() {
  const wranglerArgs = (...args) => [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'kv', 'key', ...args, '--binding', 'SCHEMA_KV', '--local', '--persist-to', persistTo]
  const quiet = { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } }
  try {
    const current = execFileSync(process.execPath, wranglerArgs('get', 'schema:snapshot', '--text'), quiet).toString()
    if (current.trim().startsWith('{')) return console.log('[dev] schema snapshot already in local KV')
  } catch {
    // absent: seed below
  }
  execFileSync(process.execPath, wranglerArgs('put', 'schema:snapshot', '--path', join(root, 'src', 'demo', 'metro-snapshot.json')), quiet)
  console.log('[dev] loaded the demo metro schema snapshot into local KV')
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
