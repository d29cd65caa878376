#!/usr/bin/env node
// `npm start` / `npm run dev`: the worker under `wrangler dev`, on embedded defaults when nothing
// is configured — without DATABASE_URL, the embedded demo database (PGlite, db/demo/metro.sql)
// with its read-only role, and runs on; without a DashScope key, the bundled fake. Any other
// database is reached the way scripts/dev/database.mjs says (a local relay for the Neon driver,
// Neon as it is, or a Hyperdrive binding for any other Postgres). Once the worker is up, the Cron
// Trigger's refresh runs (wrangler's /__scheduled) so questions are answered from a live
// introspection.
//
// Every var (wrangler.toml [vars]) and secret (src/secret-names.ts) can be overridden from the
// environment, e.g.
//   PORT=9000 DASHSCOPE_BASE_URL=http://127.0.0.1:9999 DASHSCOPE_API_KEY=x API_KEYS=k npm run dev
// Overrides (and .dev.vars) reach the worker through a private env file in the state directory,
// never the command line, so wrangler does not print secrets in its bindings table.
//
// It starts only what it can finish: a setting the worker would refuse, a state directory another
// `npm start` holds, or a port in use stop it at once, in one line. It stops everything it started
// on SIGINT, SIGTERM or SIGHUP, when the process that started it (npm) is gone, or when wrangler
// ends.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startFakeDashScope } from '../tools/fake-dashscope/server.mjs'
import { DirectoryInUse, lockDirectory } from './dir-lock.mjs'
import { startDevDatabase } from './dev/database.mjs'
import { watchParent } from './dev/parent-watch.mjs'
import { refreshSchemaOnce } from './dev/readiness.mjs'
import { readDevSettings, SettingError } from './dev/settings.mjs'
import { approvedQuestions } from './dev/try-questions.mjs'
import { startWrangler } from './dev/wrangler.mjs'
import { wranglerOutput } from './dev/wrangler-output.mjs'
import { holdPort } from './free-port.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// Under wrangler dev the request reaches the worker through Miniflare's entry worker, which does
// not pass on the request's abort signal: a client that leaves is seen only when a write to it
// fails — the second write after it left. Frequent keep-alive comments while DashScope is quiet
// make that under a second whatever the upstream does (in production the signal does it).
const DEV_HEARTBEAT_MS = 250
const SIGNALS = /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])

/** What has been started, stopped last-first by `stop`. @type {(() => Promise<unknown> | unknown)[]} */
const running = []
/** @type {Promise<void> | undefined} */
let stopping

/** Stops everything started, then ends this process: by `signal` (as npm expects), or with `exitCode`. */
function stop(exitCode, signal) {
  stopping ??= (async () => {
    for (const close of running.reverse()) await Promise.resolve().then(close).catch(() => {})
    if (signal) {
      process.removeAllListeners(signal)
      process.kill(process.pid, signal)
    }
    process.exit(exitCode)
  })()
  return stopping
}
// A terminal that hung up (or a reader that left) must not turn the next line printed into a
// crash that skips the stop.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
for (const signal of SIGNALS)
  process.on(signal, () => {
    if (!stopping) console.log(`[dev] ${signal}: stopping what npm start started`)
    void stop(1, signal)
  })
// npm dies of SIGHUP and SIGKILL without passing them on.
watchParent(() => {
  if (!stopping) console.log('[dev] the process that started npm start is gone: stopping')
  void stop(1)
})

/** Ends the start with one line saying why (and what to do). */
function refuse(message) {
  console.error(`[dev] ${message}`)
  return stop(1)
}

const shown = (dir) => (relative(process.cwd(), dir).startsWith('..') ? dir : relative(process.cwd(), dir) || '.')
const portTaken = (port) => `port ${port} is already in use (another npm start, or another program): stop it, or choose another port: PORT=${port + 1} npm start`

async function main() {
  let settings
  try {
    settings = await readDevSettings(root, process.env)
  } catch (err) {
    if (err instanceof SettingError) return refuse(`cannot start: ${err.message}`)
    throw err
  }
  const { port, stateDir, config } = settings
  const vars = { ...settings.vars }
  vars.HEARTBEAT_INTERVAL_MS ??= String(DEV_HEARTBEAT_MS)

  mkdirSync(stateDir, { recursive: true })
  try {
    running.push((await lockDirectory(stateDir, { port })).release)
  } catch (err) {
    if (!(err instanceof DirectoryInUse)) throw err
    const { pid, port: theirs } = err.holder
    return refuse(
      `another npm start (pid ${pid}${theirs ? `, http://127.0.0.1:${theirs}` : ''}) is using this state directory (${shown(stateDir)}): stop it first, ` +
        `or run a second one with its own state directory and port: WRANGLER_PERSIST_TO=${shown(stateDir)}-2 PORT=${port + 1} npm start`,
    )
  }
  // Held until wrangler starts, so the servers started meanwhile on port 0 cannot be given it.
  const heldPort = await holdPort(port)
  if (!heldPort) return refuse(portTaken(port))
  running.push(heldPort.release)

  if (!vars.DASHSCOPE_API_KEY) {
    let answers
    try {
      answers = fakeAnswers(process.env.FAKE_DASHSCOPE_ANSWERS)
    } catch (err) {
      return refuse(`cannot start: FAKE_DASHSCOPE_ANSWERS: ${err?.message ?? err}`)
    }
    const fake = await startFakeDashScope({ port: Number(process.env.FAKE_DASHSCOPE_PORT || 0), apiKey: 'fake-key', answers })
    running.push(fake.close)
    vars.DASHSCOPE_API_KEY = 'fake-key'
    vars.DASHSCOPE_BASE_URL = fake.url
    // The model name tells every caller (in `meta` and /healthz) that the answers are canned.
    vars.DASHSCOPE_MODEL = `fake-${vars.DASHSCOPE_MODEL || 'qwen-plus'}`
    console.log(`[dev] no DASHSCOPE_API_KEY: answering with the fake DashScope at ${fake.url}`)
  }
  if (stopping) return

  let database
  try {
    database = await startDevDatabase({ root, vars, env: process.env, config, stateDir, log: console.log })
    running.push(database.close)
    for (const [name, value] of Object.entries(database.vars)) {
      if (value === undefined) delete vars[name]
      else vars[name] = value
    }
    console.log(`[dev] database: ${database.description}`)
  } catch (err) {
    if (!(err instanceof DirectoryInUse)) throw err
    return refuse(`the demo database's directory ${shown(err.dir)} is in use by process ${err.holder.pid}: stop that one first, or give this one its own (DEMO_DB_DIR, or WRANGLER_PERSIST_TO for all of its state)`)
  }
  if (stopping) return

  const envFile = join(stateDir, 'dev.env')
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(String(v))}`).join('\n') + '\n', { mode: 0o600 })
  chmodSync(envFile, 0o600)
  running.push(() => rmSync(envFile, { force: true }))

  const verbose = process.argv.includes('--verbose')
  const logFile = join(stateDir, 'wrangler.log')
  const output = wranglerOutput({ file: logFile, verbose, print: (line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`) })
  if (!verbose) console.log(`[dev] starting wrangler dev; its output goes to ${shown(logFile)} (npm start -- --verbose shows it here)`)
  await heldPort.release()
  const wrangler = startWrangler({ root, port, stateDir, envFile, args: database.wranglerArgs, env: database.wranglerEnv, onLine: output.onLine })
  running.push(wrangler.stop)
  let wranglerLeft = false
  let ready = false
  void wrangler.exited.then(({ code, signal, portInUse }) => {
    wranglerLeft = true
    if (stopping) return
    if (portInUse) return refuse(portTaken(port))
    const how = signal ? `by ${signal}` : `with exit code ${code}`
    if (!ready && !verbose) for (const line of output.tail()) console.error(`  ${line}`)
    return refuse(ready ? `wrangler ended ${how}; stopping` : `wrangler could not start: it ended ${how} (its last lines above say why; all of it in ${shown(logFile)})`)
  })
  await Promise.race([wrangler.ready, wrangler.exited])
  if (stopping || wranglerLeft) return

  const base = `http://127.0.0.1:${port}`
  const outcome = await refreshSchemaOnce(base, { alive: () => !wranglerLeft })
  if (stopping || wranglerLeft) return
  if (!outcome.ready) {
    console.log(`[dev] not ready — ${outcome.reason}. The schema refresh may have failed (see its line above, or ${shown(logFile)}): fix DATABASE_URL and POST /v1/admin/schema/refresh, or PUT /v1/admin/schema; /healthz turns 200 when ready`)
    return
  }
  ready = true
  output.markReady()
  console.log(`[dev] schema cache: ${outcome.schemaVersion}`)
  const cli = ['npx txt2sql-edge ask', port !== 8787 ? ` --url ${base}` : '', vars.API_KEYS ? ' --key <key>' : '', outcome.execute ? ' --execute' : ''].join('')
  // The demo's questions on the demo; on a database of yours, its approved examples, else a question
  // of yours (the code knows no domain).
  const questions = database.questions.length ? database.questions : await approvedQuestions(base, vars.ADMIN_TOKEN)
  const [first = '<你的问题>', second = first] = questions
  console.log(`[dev] txt2sql-edge is ready on ${base} — open it in a browser for the playground, or try:
  ${cli} "${first}"
  curl -N ${base}/v1/ask -H 'content-type: application/json'${vars.API_KEYS ? " -H 'authorization: Bearer <key>'" : ''} -d '{"question":"${second}"}'`)
}

/**
 * FAKE_DASHSCOPE_ANSWERS: a JSON file mapping a question to the fake's whole answer (text with a
 * sql code block), or to `{"answer", "repair"}` — how to try a schema of your own without a key
 * (tools/fake-dashscope/README.md). Unset: the fake's canned answers about the demo.
 */
function fakeAnswers(file) {
  if (!file) return {}
  const answers = JSON.parse(readFileSync(resolve(process.cwd(), file), 'utf8'))
  if (!answers || typeof answers !== 'object' || Array.isArray(answers)) throw new Error('must be a JSON object: {"question": "answer text", …}')
  return answers
}

main().catch((err) => refuse(`could not start: ${err?.message ?? err}`))
