// `npm run deploy`: from a logged-in wrangler to a service that answers. It checks first what must
// exist before the first request (the secrets, the Hyperdrive configurations, ADMIN_TOKEN for the
// first refresh) and names each missing piece with the command that sets it — deploying nothing
// then; builds and deploys (wrangler builds); fills the schema cache at once
// (POST /v1/admin/schema/refresh) instead of waiting for the hourly cron; and prints the URL and a
// line to try. wrangler is injected (`wrangler(args, options)`), as is `fetch`, so each decision is
// tested without an account (test/node/deploy.test.ts). docs/DEPLOY.md walks through it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { parse } from 'smol-toml'
import { HYPERDRIVE_BINDINGS } from '../src/database-bindings.ts'
import { SECRET_NAMES } from '../src/secret-names.ts'
import { buildWorker, describeSize, measureBundle } from './bundle-size.mjs'
import { chooseDatabaseRoute, localHyperdrives, redact, writeDerivedConfig } from './database-route.mjs'

const [MAIN_BINDING, READONLY_BINDING] = HYPERDRIVE_BINDINGS
const DEPLOY_CONFIG = '.wrangler-deploy.hyperdrive.jsonc'
export const USAGE = 'usage: npm run deploy [-- --hyperdrive] [-- --dry-run [--outdir DIR]]'

/**
 * The secrets a deployed worker cannot serve without: the model's key, the admin token (the first
 * refresh and every later admin call) and, on the Neon way, the database. API_KEYS and
 * DATABASE_URL_READONLY are recommended, not required (the deploy says so).
 */
export function requiredSecrets(way) {
  return ['DASHSCOPE_API_KEY', 'ADMIN_TOKEN', ...(way === 'neon' ? ['DATABASE_URL'] : [])].map(declared)
}

function declared(name) {
  if (!SECRET_NAMES.includes(name)) throw new Error(`${name} is not a secret of src/secret-names.ts`)
  return name
}

/**
 * @typedef {{ code: number, stdout: string, stderr: string }} WranglerResult
 * @typedef {(args: string[], options?: { env?: Record<string, string>, inherit?: boolean }) => Promise<WranglerResult>} Wrangler
 * @param {{ root: string, argv: string[], env: Record<string, string | undefined>, wrangler: Wrangler,
 *   fetch?: typeof fetch, log?: (line: string) => void, sleep?: (ms: number) => Promise<void>, refreshWaitMs?: number }} options
 * @returns {Promise<number>} the exit code
 */
export async function deployWorker({ root, argv, env, wrangler, fetch = globalThis.fetch, log = console.log, sleep = (ms) => new Promise((r) => setTimeout(r, ms)), refreshWaitMs = 60_000 }) {
  const args = parseArgs(argv)
  if (args.error) {
    log(`${args.error}\n${USAGE}`)
    return 2
  }
  const name = workerName(root)
  const way = chooseWay(args, env, name)
  if (way.error) {
    log(`✘ ${way.error}`)
    return 1
  }
  log(`Deploying ${name} the ${way.way === 'hyperdrive' ? 'Hyperdrive way (node-postgres through a Hyperdrive binding)' : 'Neon way (the Neon driver, DATABASE_URL)'}${way.why ? ` — ${way.why}` : ''}.`)
  if (args.dryRun) return dryRun({ root, args, way, log })

  // 1. Everything the first request needs, checked before anything is deployed.
  const secrets = await listSecrets(wrangler)
  if (secrets.error) {
    log(`✘ could not list the worker's secrets: ${secrets.error}\n  ${nextStepAfter(secrets.error)}`)
    return 1
  }
  const missing = requiredSecrets(way.way)
    .filter((secret) => !secrets.names.includes(secret))
    .map((secret) => `${secret} (a secret of the worker): npx wrangler secret put ${secret}${secret === 'DATABASE_URL' ? `   — or, for a database reached through Hyperdrive: npm run deploy -- --hyperdrive` : ''}`)
  if (!env.ADMIN_TOKEN?.trim()) missing.push('ADMIN_TOKEN in this shell, the same value as the secret, for the first schema refresh: ADMIN_TOKEN=… npm run deploy')
  let hyperdrives = []
  if (way.way === 'hyperdrive') {
    const found = await listHyperdrives(wrangler)
    if (found.error) {
      log(`✘ could not list the Hyperdrive configurations: ${found.error}`)
      return 1
    }
    // The read-only role's binding only when its configuration exists or is to be created.
    hyperdrives = way.bindings.map((b) => ({ ...b, id: found.configs.find((c) => c.name === b.config)?.id })).filter((b) => b.id || b.connection || !b.optional)
    for (const b of hyperdrives) {
      if (!b.id && !b.connection) missing.push(`the Hyperdrive configuration ${b.config} (binding ${b.binding}): DATABASE_URL${b.binding === READONLY_BINDING ? '_READONLY' : ''}='postgres://…?sslmode=require' npm run deploy -- --hyperdrive creates it, or npx wrangler hyperdrive create ${b.config} --connection-string='postgres://…' --caching-disabled`)
    }
  }
  if (missing.length) {
    log(`✘ Not deployed: ${missing.length === 1 ? 'one thing is' : `${missing.length} things are`} missing.\n${missing.map((m) => `  - ${m}`).join('\n')}\nSet them, then run npm run deploy again (docs/DEPLOY.md).`)
    return 1
  }
  for (const note of recommendations(way, secrets.names, hyperdrives)) log(`  note: ${note}`)

  // 2. The Hyperdrive configurations that do not exist yet, then the configuration that binds them.
  let config
  if (way.way === 'hyperdrive') {
    for (const b of hyperdrives.filter((h) => !h.id)) {
      log(`Creating the Hyperdrive configuration ${b.config} for ${redact(b.connection)}…`)
      // No query cache: a refresh must see a schema change at once, and a run today's rows.
      const created = await wrangler(['hyperdrive', 'create', b.config, `--connection-string=${b.connection}`, '--caching-disabled'])
      if (created.code !== 0) {
        log(`✘ wrangler hyperdrive create ${b.config} failed: ${scrub(created.stderr || created.stdout)}`)
        return 1
      }
      const again = await listHyperdrives(wrangler)
      b.id = again.configs?.find((c) => c.name === b.config)?.id
      if (!b.id) {
        log(`✘ created ${b.config}, but it is not in wrangler hyperdrive list`)
        return 1
      }
    }
    config = writeDerivedConfig(root, DEPLOY_CONFIG, hyperdrives.map(({ binding, id }) => ({ binding, id })), 'npm run deploy (scripts/deploy-worker.mjs)')
  }

  // 3. Build and deploy (wrangler builds: [build] in wrangler.toml, then the bundle).
  const outputDir = mkdtempSync(join(tmpdir(), 'txt2sql-deploy-'))
  let targets
  try {
    const outputFile = join(outputDir, 'output.ndjson')
    const deployed = await wrangler(['deploy', ...(config ? ['--config', config] : [])], { inherit: true, env: { WRANGLER_OUTPUT_FILE_PATH: outputFile } })
    if (deployed.code !== 0) {
      log('✘ wrangler deploy failed (its output is above); nothing else was done.')
      return 1
    }
    targets = deployTargets(readOutput(outputFile))
  } finally {
    rmSync(outputDir, { recursive: true, force: true })
  }
  const url = targets.find((t) => /^https:\/\//.test(t))?.replace(/\/+$/, '')
  if (!url) {
    log(`Deployed, to ${targets.join(', ') || 'no public URL'}. Fill the schema cache once it is reachable:\n  curl -X POST https://<your host>/v1/admin/schema/refresh -H "authorization: Bearer $ADMIN_TOKEN"`)
    return 0
  }

  // 4. The first refresh, at once. A new deployment takes a moment to answer everywhere.
  const refresh = await firstRefresh({ url, token: env.ADMIN_TOKEN.trim(), fetch, sleep, waitMs: refreshWaitMs })
  if (!refresh.ok) {
    log(`✘ Deployed to ${url}, but the first schema refresh failed: ${refresh.error}\n  Fix it, then: curl -X POST ${url}/v1/admin/schema/refresh -H "authorization: Bearer $ADMIN_TOKEN"`)
    return 1
  }
  log(`Schema cache filled: ${refresh.body.tables} tables, ${refresh.body.views} views, version ${refresh.body.version}.`)
  log(`\n${name} is live at ${url}\nTry it with a question about your data:\n  npx txt2sql-edge ask --url ${url}${secrets.names.includes('API_KEYS') ? ' --key "$TXT2SQL_API_KEY"' : ''} "<你的问题>"`)
  return 0
}

function parseArgs(argv) {
  const args = { dryRun: false, hyperdrive: false, outdir: undefined }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--dry-run') args.dryRun = true
    else if (a === '--hyperdrive') args.hyperdrive = true
    else if (a === '--outdir' && argv[i + 1]) args.outdir = argv[++i]
    else if (a.startsWith('--outdir=')) args.outdir = a.slice('--outdir='.length)
    else return { error: `unknown argument ${a}` }
  }
  if (args.outdir && !args.dryRun) return { error: '--outdir goes with --dry-run' }
  return args
}

/**
 * The Neon way unless asked for Hyperdrive (--hyperdrive), or unless DATABASE_URL in this shell
 * is neither Neon nor local — the decision npm start makes (scripts/database-route.mjs). The
 * Hyperdrive way binds the configurations named after the worker (`<name>`, `<name>-readonly`):
 * found in the account, or created from DATABASE_URL / DATABASE_URL_READONLY in this shell.
 */
function chooseWay(args, env, name) {
  const route = chooseDatabaseRoute({ DATABASE_URL: env.DATABASE_URL, DATABASE_URL_READONLY: env.DATABASE_URL_READONLY }, {})
  if (!args.hyperdrive && route.way !== 'hyperdrive') return { way: 'neon' }
  const url = env.DATABASE_URL?.trim() || undefined
  const readonly = env.DATABASE_URL_READONLY?.trim() || undefined
  for (const [setting, value] of [['DATABASE_URL', url], ['DATABASE_URL_READONLY', readonly]]) {
    if (value && chooseDatabaseRoute({ DATABASE_URL: value }, {}).way === 'relay') return { error: `${setting} points at this machine, which Hyperdrive cannot reach: give the database's address on the internet` }
  }
  return {
    way: 'hyperdrive',
    why: args.hyperdrive ? undefined : 'DATABASE_URL in this shell is neither Neon nor on this machine',
    bindings: [
      { binding: MAIN_BINDING, config: name, connection: url },
      { binding: READONLY_BINDING, config: `${name}-readonly`, connection: readonly, optional: true },
    ],
  }
}

async function dryRun({ root, args, way, log }) {
  const outdir = args.outdir ?? mkdtempSync(join(tmpdir(), 'txt2sql-dist-'))
  // No account: the bindings get the ids wrangler dev uses; nothing is uploaded.
  const config = way.way === 'hyperdrive' ? writeDerivedConfig(root, DEPLOY_CONFIG, localHyperdrives([MAIN_BINDING, READONLY_BINDING]), 'npm run deploy -- --dry-run (scripts/deploy-worker.mjs)') : undefined
  try {
    buildWorker({ root, outdir, config })
  } catch (err) {
    log(`✘ the build failed: ${String(err.stderr || err.message)}`)
    return 1
  }
  const size = measureBundle(outdir)
  log(`Built what wrangler deploy would upload into ${outdir}: ${size.modules.join(', ')}, ${describeSize(size)}${size.withinCeiling ? '' : ' — over the ceiling (BENCHMARKS.md, P7)'}.`)
  log(`A real deploy would next check the secrets (${requiredSecrets(way.way).join(', ')}) with wrangler secret list${way.way === 'hyperdrive' ? ', find or create the Hyperdrive configurations' : ''}, deploy, and run the first schema refresh.`)
  if (!args.outdir) rmSync(outdir, { recursive: true, force: true })
  // The budget is ours (a deploy is not refused over it): a build that worked is a dry run that worked.
  return 0
}

async function listSecrets(wrangler) {
  const listed = await wrangler(['secret', 'list', '--format', 'json'])
  if (listed.code !== 0) {
    // A worker that was never deployed has no secrets yet (`wrangler secret put` creates it).
    if (/Worker "[^"]+".* not found|does not exist/i.test(listed.stderr + listed.stdout)) return { names: [] }
    return { error: scrub(lastLines(listed.stderr || listed.stdout)) }
  }
  try {
    return { names: JSON.parse(listed.stdout.slice(listed.stdout.indexOf('['))).map((s) => s.name) }
  } catch {
    return { error: `unreadable output of wrangler secret list: ${lastLines(listed.stdout)}` }
  }
}

/**
 * `wrangler hyperdrive list` prints a table (no JSON): id and name are read from its header and
 * rows, whatever other columns a later wrangler adds.
 */
export async function listHyperdrives(wrangler) {
  const listed = await wrangler(['hyperdrive', 'list'])
  if (listed.code !== 0) return { error: scrub(lastLines(listed.stderr || listed.stdout)) }
  const rows = listed.stdout.split('\n').filter((line) => line.includes('│')).map((line) => line.split('│').slice(1, -1).map((cell) => cell.trim()))
  const header = rows.find((cells) => cells.includes('id') && cells.includes('name'))
  if (!header) return { configs: [] }
  const [id, name] = [header.indexOf('id'), header.indexOf('name')]
  return { configs: rows.filter((cells) => /^[0-9a-f]{32}$/.test(cells[id] ?? '')).map((cells) => ({ id: cells[id], name: cells[name] })) }
}

function recommendations(way, secrets, hyperdrives) {
  const notes = []
  if (!secrets.includes('API_KEYS')) notes.push('API_KEYS is not set: anyone who finds the URL can ask, on your DashScope key (npx wrangler secret put API_KEYS)')
  const readonly = way.way === 'neon' ? secrets.includes('DATABASE_URL_READONLY') : hyperdrives.some((h) => h.binding === READONLY_BINDING && (h.id || h.connection))
  if (!readonly) notes.push(`no read-only role (${way.way === 'neon' ? 'DATABASE_URL_READONLY' : READONLY_BINDING}): model SQL is checked as the main role, and runs (SQL_EXECUTE) are refused if it is a superuser (docs/SECURITY.md)`)
  return notes
}

function readOutput(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
  } catch {
    return []
  }
}

function deployTargets(entries) {
  return entries.filter((e) => e.type === 'deploy').flatMap((e) => e.targets ?? [])
}

/** POST /v1/admin/schema/refresh until the new deployment answers it (404/5xx from the edge while it rolls out). */
async function firstRefresh({ url, token, fetch, sleep, waitMs }) {
  const deadline = Date.now() + waitMs
  let last = 'no answer'
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${url}/v1/admin/schema/refresh`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      const body = await res.json().catch(() => null)
      if (res.ok && body) return { ok: true, body }
      const error = body?.error ? `${res.status} ${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`
      if (res.status === 401) return { ok: false, error: `${error} — ADMIN_TOKEN in this shell is not the worker's ADMIN_TOKEN secret` }
      // The new worker's own verdict on its database is final; anything else (the edge's 404
      // before the route exists, the previous version's errors, 5xx) may be the rollout.
      const code = String(body?.error?.code ?? '')
      if ((code.startsWith('database_') || code === 'server_misconfigured') && !body.error.retryable) return { ok: false, error }
      last = error
    } catch (err) {
      last = err.message
    }
    if (Date.now() >= deadline) return { ok: false, error: `${last} (for ${Math.round(waitMs / 1000)} s)` }
    await sleep(Math.min(1000 * 2 ** attempt, 5000))
  }
}

function workerName(root) {
  return parse(readFileSync(join(root, 'wrangler.toml'), 'utf8')).name
}

/**
 * Wrangler's own reason for a failure: its `[ERROR]` lines, without colours, the blank lines and
 * the "Logs were written to …" pointer that ends every failure (a path says nothing of the cause).
 * Without an `[ERROR]` line, its last words.
 */
function lastLines(text) {
  const lines = stripVTControlCharacters(text)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/Logs were written to/i.test(line))
  const errors = lines.filter((line) => line.includes('[ERROR]'))
  return (errors.length > 0 ? errors : lines.slice(-3)).join(' ').slice(0, 500)
}

/** What to do next after wrangler could not reach the account. */
function nextStepAfter(reason) {
  if (/non-interactive|CLOUDFLARE_API_TOKEN/i.test(reason))
    return 'Next: create an API token with the "Edit Cloudflare Workers" template and export CLOUDFLARE_API_TOKEN=… in this shell (or run npx wrangler login in a terminal), then npm run deploy again; docs/DEPLOY.md.'
  return 'Next: if you are not logged in, npx wrangler login (or export CLOUDFLARE_API_TOKEN=…), then npm run deploy again; docs/DEPLOY.md.'
}

function scrub(text) {
  return text.replace(/postgres(ql)?:\/\/\S+/gi, '<database url>')
}
