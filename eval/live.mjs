#!/usr/bin/env node
// npm run eval:live -- --questions FILE [--url URL] [options]
//
// Live accuracy on the user's own database: asks each question (CSV or JSON of question + gold
// SQL) through the running service, runs the returned SQL and the gold SQL read-only against
// DATABASE_URL, and scores execution accuracy (eval/compare-results.mjs), the check / repair /
// unanswerable rates, tokens and latency per question. Resumable: every answered question is a
// line of the results file, and a rerun asks only the others. docs/EVAL.md explains it all.
import { createParser } from 'eventsource-parser'
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { importSource } from '../bench/lib/bundle.mjs'
import { startWsRelay } from '../tools/ws-relay/relay.mjs'
import { compareResults, ordersResult } from './compare-results.mjs'
import { readQuestions } from './read-questions.mjs'
import { runApproved } from './approved.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * List prices in CNY per million tokens (China (Beijing) region, non-thinking mode, the lowest
 * input tier), as published by Alibaba Cloud Model Studio when this table was written (2026-12).
 * Prices change: the printed cost is an ESTIMATE; override with --price-in/--price-out.
 */
export const PRICES = {
  'qwen-turbo': { in: 0.3, out: 0.6 },
  'qwen-plus': { in: 0.8, out: 2 },
  'qwen-max': { in: 2.4, out: 9.6 },
  'qwen3-max': { in: 6, out: 24 },
  'qwen3-coder-plus': { in: 4, out: 16 },
}

const HELP = `npm run eval:live -- --questions FILE [options]
       npm run eval:live -- --approved --admin-token TOKEN [options]

  --approved           ask each approved example's question with that example held out (neither in
                       the prompt nor answered verified), compare with its SQL, give each miss a
                       reason; print a table, store the report (POST /v1/admin/evals)
  --admin-token TOKEN  the service's ADMIN_TOKEN (or TXT2SQL_ADMIN_TOKEN): needed by --approved
  --token JWT          ask as this caller (a JWT): measures that role's accuracy
  --min-accuracy P     exit 1 when the accuracy (percent) is under P

  --questions FILE     JSON array of {question, sql|gold_sql, id?, category?, history?} or CSV with
                       columns question,sql (gold sql empty = the question cannot be answered)
  --url URL            the running service (default http://127.0.0.1:$PORT, PORT=8787: npm start)
  --out FILE           results, one JSON line per question (default .eval/live-<questions>.jsonl);
                       a rerun skips the questions already there
  --concurrency N      questions in flight at once (default 4)
  --limit N            only the first N questions
  --timeout-ms MS      per SQL run against the database (default 10000)
  --max-rows N         rows compared per result (default 10000)
  --api-key KEY        the service's API key (or TXT2SQL_API_KEY), when API_KEYS is set on it
  --price-in X --price-out Y   CNY per million tokens, for a model not in the price table
  --dry-run            print the plan and the cost estimate, ask nothing
  --allow-fake         run without DASHSCOPE_API_KEY, against a service answering with the fake
                       DashScope (tests); the costs printed are then not real

Environment: DB_FUNCTIONS (as the service's: business functions its admission gate admits; the
same gate refuses here what the service would refuse), DATABASE_URL (required; a local postgres:// URL gets a WebSocket relay started here,
or set NEON_WS_PROXY), DASHSCOPE_API_KEY (required unless --allow-fake: the service must be the one
configured with it; nothing here calls DashScope directly).`

export function parseArgs(argv) {
  const opts = { concurrency: 4, timeoutMs: 10_000, maxRows: 10_000, allowFake: false, dryRun: false, help: false }
  const value = (i) => {
    if (i + 1 >= argv.length) throw new UsageError(`${argv[i]} needs a value`)
    return argv[i + 1]
  }
  const number = (i) => {
    const n = Number(value(i))
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${argv[i]} must be a positive number`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--questions') (opts.questions = value(i)), i++
    else if (a === '--url') (opts.url = value(i).replace(/\/+$/, '')), i++
    else if (a === '--out') (opts.out = value(i)), i++
    else if (a === '--concurrency') (opts.concurrency = Math.floor(number(i))), i++
    else if (a === '--limit') (opts.limit = Math.floor(number(i))), i++
    else if (a === '--timeout-ms') (opts.timeoutMs = number(i)), i++
    else if (a === '--max-rows') (opts.maxRows = Math.floor(number(i))), i++
    else if (a === '--api-key') (opts.apiKey = value(i)), i++
    else if (a === '--price-in') (opts.priceIn = number(i)), i++
    else if (a === '--price-out') (opts.priceOut = number(i)), i++
    else if (a === '--approved') opts.approved = true
    else if (a === '--admin-token') (opts.adminToken = value(i)), i++
    else if (a === '--token') (opts.token = value(i)), i++
    else if (a === '--min-accuracy') (opts.minAccuracy = number(i)), i++
    else if (a === '--allow-fake') opts.allowFake = true
    else if (a === '--dry-run') opts.dryRun = true
    else if (a === '--help' || a === '-h') opts.help = true
    else throw new UsageError(`unknown argument ${a}`)
  }
  return opts
}

class UsageError extends Error {}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  if (opts.help) return void console.log(HELP)
  if (opts.approved) return approvedMode(opts)
  if (!opts.questions) throw new UsageError('--questions FILE is required')
  if (!process.env.DASHSCOPE_API_KEY && !opts.allowFake) {
    throw new UsageError('DASHSCOPE_API_KEY is not set: eval:live measures the real model and costs money. Set the key (the service must be running with it), or pass --allow-fake to run against the fake DashScope (tests only).')
  }
  if (!process.env.DATABASE_URL) throw new UsageError('DATABASE_URL is not set: the gold and the answered SQL are run against it (read-only)')
  const url = opts.url ?? `http://127.0.0.1:${process.env.PORT || 8787}`
  const apiKey = opts.apiKey ?? process.env.TXT2SQL_API_KEY
  const mod = await importSource(join(root, 'eval', 'live-entry.ts'))
  let questions = readQuestions(opts.questions, mod.parseCsv)
  if (opts.limit) questions = questions.slice(0, opts.limit)
  const out = opts.out ?? join(root, '.eval', `live-${basename(opts.questions).replace(/\.[^.]+$/, '')}.jsonl`)
  const done = readDone(out)
  // A result counts only for the question as it is now: an edited question or gold SQL is asked again.
  for (const q of questions) {
    const r = done.get(q.id)
    if (r && (r.question !== q.question || r.gold_sql !== q.sql)) done.delete(q.id)
  }
  const todo = questions.filter((q) => !done.has(q.id))

  const health = await fetchHealth(url)
  const model = String(health.model ?? 'unknown')
  if (model.startsWith('fake-') && !opts.allowFake) {
    throw new UsageError(`the service at ${url} answers with the fake DashScope (model ${model}): start it with DASHSCOPE_API_KEY set, or pass --allow-fake`)
  }
  const price = priceFor(model, opts)
  const estimate = estimateCost(todo.length, [...done.values()], price)
  console.log(`eval:live — ${questions.length} questions from ${opts.questions}; ${done.size} already in ${out}, ${todo.length} to ask`)
  console.log(`service ${url}: model ${model}, schema ${health.schema_version ?? 'none'}; concurrency ${opts.concurrency}`)
  console.log(estimate.text)
  if (opts.dryRun) return
  if (!health.schema_version) throw new UsageError(`the service at ${url} has no schema cached yet (GET /healthz): refresh it first`)

  const db = await connect(mod)
  try {
    // Before asking anything: a database that cannot be used is a usage error (exit 2), said once.
    await db.check()
    mkdirSync(dirname(out), { recursive: true })
    // A run interrupted mid-write leaves a cut last line: start the next record on a line of its own.
    if (existsSync(out) && !readFileSync(out, 'utf8').endsWith('\n') && readFileSync(out, 'utf8').length > 0) appendFileSync(out, '\n')
    let finished = 0
    await pool(todo, opts.concurrency, async (q) => {
      const record = await evaluate(q, { url, apiKey, db, opts })
      appendFileSync(out, `${JSON.stringify(record)}\n`)
      finished++
      const mark = record.status === 'failed' ? 'ERR ' : record.correct ? 'ok  ' : 'miss'
      console.log(`[${finished}/${todo.length}] ${mark} ${q.id} ${q.question.slice(0, 40)}${record.reason ? ` — ${record.reason}` : ''}`)
    })
  } finally {
    await db.close()
  }
  const records = [...readDone(out).values()].filter((r) => questions.some((q) => q.id === r.id && q.question === r.question && q.sql === r.gold_sql))
  const summary = summarise(records, price, model)
  console.log(formatSummary(summary))
  writeFileSync(out.replace(/\.jsonl$/, '') + '.summary.json', `${JSON.stringify(summary, null, 2)}\n`)
}

/** `--approved`: the team's own approved examples as the questions, each held out in turn. */
async function approvedMode(opts) {
  const adminToken = opts.adminToken ?? process.env.TXT2SQL_ADMIN_TOKEN
  if (!adminToken) throw new UsageError('--approved needs the admin token: --admin-token TOKEN or TXT2SQL_ADMIN_TOKEN')
  if (!process.env.DASHSCOPE_API_KEY && !opts.allowFake) {
    throw new UsageError('DASHSCOPE_API_KEY is not set: eval:live measures the real model and costs money. Set the key (the service must be running with it), or pass --allow-fake to run against the fake DashScope (tests only).')
  }
  if (!process.env.DATABASE_URL) throw new UsageError('DATABASE_URL is not set: the approved and the answered SQL are run against it (read-only)')
  const url = opts.url ?? `http://127.0.0.1:${process.env.PORT || 8787}`
  const health = await fetchHealth(url)
  if (String(health.model ?? '').startsWith('fake-') && !opts.allowFake) throw new UsageError(`the service at ${url} answers with the fake DashScope: start it with DASHSCOPE_API_KEY set, or pass --allow-fake`)
  const bearer = opts.token ?? opts.apiKey ?? process.env.TXT2SQL_API_KEY
  const mod = await importSource(join(root, 'eval', 'live-entry.ts'))
  const db = await connect(mod)
  try {
    await db.check()
    process.exitCode = await runApproved({ url, opts, db, adminToken, bearer, role: opts.token ? roleOf(opts.token) : null, pool })
  } finally {
    await db.close()
  }
}

/** The role a JWT names (for the report only; the service verifies the token). */
function roleOf(token) {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))
    return typeof payload.role === 'string' ? payload.role : null
  } catch {
    return null
  }
}

/** The results file: the last record of each question id, without failed ones (asked again). */
function readDone(file) {
  const done = new Map()
  if (!existsSync(file)) return done
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue
    try {
      const r = JSON.parse(line)
      if (r.status === 'failed') done.delete(r.id)
      else done.set(r.id, r)
    } catch {
      // A line cut by an interrupted run: that question is asked again.
    }
  }
  return done
}

async function fetchHealth(url) {
  try {
    const res = await fetch(`${url}/healthz`)
    return await res.json()
  } catch (err) {
    throw new UsageError(`the service at ${url} does not answer (${err.message}): start it (npm start) or pass --url`)
  }
}

function priceFor(model, opts) {
  if (opts.priceIn !== undefined || opts.priceOut !== undefined) return { in: opts.priceIn ?? 0, out: opts.priceOut ?? 0, source: 'given' }
  const name = model.replace(/^fake-/, '')
  const known = PRICES[name]
  return known ? { ...known, source: `list price of ${name}`, fake: model.startsWith('fake-') } : null
}

/** Before starting: tokens per question from earlier results when there are some, else a typical answer. */
export function estimateCost(count, earlier, price) {
  const withUsage = earlier.filter((r) => r.usage)
  const perIn = withUsage.length ? withUsage.reduce((n, r) => n + r.usage.input_tokens, 0) / withUsage.length : 3000
  const perOut = withUsage.length ? withUsage.reduce((n, r) => n + r.usage.output_tokens, 0) / withUsage.length : 350
  const basis = withUsage.length ? `the mean of ${withUsage.length} earlier answers` : 'a typical answer (~3,000 prompt tokens with a small schema, ~350 written; repairs add a second call)'
  const tokensIn = Math.round(count * perIn)
  const tokensOut = Math.round(count * perOut)
  const cost = price ? (tokensIn * price.in + tokensOut * price.out) / 1e6 : null
  const text =
    `${price?.fake ? '(the fake DashScope: nothing is spent) ' : ''}cost estimate (an estimate, not a quote): ${count} questions × ~${Math.round(perIn)} input + ~${Math.round(perOut)} output tokens (${basis}) ≈ ${tokensIn.toLocaleString('en')} + ${tokensOut.toLocaleString('en')} tokens` +
    (cost !== null ? ` ≈ ¥${cost.toFixed(4)} at ${price.in}/${price.out} CNY per million tokens (${price.source})` : ' — no price known for this model: pass --price-in/--price-out')
  return { tokensIn, tokensOut, cost, text }
}

/**
 * The database the gold and the answered SQL run against. A session per question, opened after
 * the service has answered and closed before the next: the service checks its SQL on the same
 * database meanwhile, and a database that serves one session at a time (the demo PGlite of
 * `npm start`: connections take turns) would otherwise wait on the evaluator's idle sessions.
 */
async function connect(mod) {
  const url = process.env.DATABASE_URL
  let relay
  let wsProxy = process.env.NEON_WS_PROXY || undefined
  if (!wsProxy && isLocal(url)) {
    relay = await startWsRelay({})
    wsProxy = relay.proxy
  }
  const config = { driver: 'neon', url, schemas: ['public'], wsProxy, connectTimeoutMs: 10_000, sampleValues: 0, sampleBudgetMs: 0, examplesTable: { schema: 'public', name: 'x' } }
  const describe = (err) => `${err?.code ? `${err.code}: ` : ''}${err?.message ?? err}`
  return {
    check: async () => {
      const db = await mod.openDb(config).catch((err) => {
        throw new UsageError(`cannot use DATABASE_URL: ${describe(err)}`)
      })
      await db.end()
    },
    /** Runs `work` with a session of its own; throws (as an Error naming the cause) when the database fails. */
    session: async (work) => {
      const db = await mod.openDb(config).catch((err) => {
        throw new Error(`the database: ${describe(err)}`)
      })
      try {
        // The service's admission gate too, with the business functions it is told to admit.
        const functions = (process.env.DB_FUNCTIONS ?? '').split(',').map((f) => f.trim().toLowerCase()).filter(Boolean)
        return await work({ run: (sql, o) => mod.runReadOnly(db, sql, { ...o, functions }) })
      } finally {
        await db.end()
      }
    },
    close: async () => {
      await relay?.close()
    },
  }
}

function isLocal(url) {
  try {
    return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(new URL(url).hostname)
  } catch {
    return false
  }
}

/** `size` workers take questions in order. */
async function pool(items, size, work) {
  let next = 0
  const workers = Array.from({ length: Math.min(size, items.length) }, async () => {
    while (next < items.length) await work(items[next++])
  })
  await Promise.all(workers)
}

/**
 * Ask one question through the service, run both queries, compare. Never throws: whatever fails —
 * the service, the gold SQL, the database — is the question's record (`status: "failed"`, asked
 * again by the next run).
 */
async function evaluate(q, { url, apiKey, db, opts }) {
  const base = { id: q.id, question: q.question, category: q.category ?? null, gold_sql: q.sql }
  let answer
  try {
    answer = await askService(url, apiKey, q)
  } catch (err) {
    return { ...base, status: 'failed', reason: `service: ${err.message}` }
  }
  const record = { ...base, status: 'done', ...answer }
  if (answer.error) return { ...record, status: 'failed', reason: `${answer.error.code}: ${answer.error.message}` }
  if (q.sql === null) {
    // Cannot be answered from this schema: right when the service says so (or gives no SQL).
    const correct = answer.unanswerable !== null || answer.sql === null
    return { ...record, correct, reason: correct ? undefined : 'answered a question the schema cannot answer' }
  }
  if (answer.unanswerable) return { ...record, correct: false, reason: `declared unanswerable (${answer.unanswerable.source})` }
  if (answer.sql === null) return { ...record, correct: false, reason: 'no SQL in the answer' }
  try {
    return await db.session(async (session) => {
      const gold = await session.run(q.sql, opts)
      if (!gold.ok) return { ...record, status: 'failed', reason: `the gold SQL fails: ${gold.error}` }
      const predicted = await session.run(answer.sql, { ...opts, admit: true })
      if (!predicted.ok) return { ...record, correct: false, reason: `the answered SQL fails: ${predicted.error}` }
      const verdict = compareResults(gold, predicted, { ordered: ordersResult(q.sql) })
      return { ...record, correct: verdict.match, gold_rows: gold.rows.length, rows: predicted.rows.length, ...(verdict.match ? {} : { reason: verdict.reason }) }
    })
  } catch (err) {
    return { ...record, status: 'failed', reason: err.message }
  }
}

/** POST /v1/ask and read the events: the SQL and its check, repair, unanswerable, usage, timings. */
async function askService(url, apiKey, q) {
  const started = performance.now()
  const res = await fetch(`${url}/v1/ask`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ question: q.question, ...(q.history ? { history: q.history } : {}) }),
  })
  if (res.status !== 200) {
    const text = await res.text()
    throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`)
  }
  const out = { sql: null, check: null, repaired: false, unanswerable: null, usage: null, ttft_ms: null, total_ms: null, finish_reason: null, error: null, client_ms: null, tables: [] }
  const parser = createParser({
    onEvent: (e) => {
      const data = JSON.parse(e.data)
      if (e.event === 'meta') out.tables = data.tables
      else if (e.event === 'repair') out.repaired = true
      else if (e.event === 'sql') {
        out.sql = data.sql
        out.check = { ok: data.ok, checked: data.checked ?? false, ...(data.error ? { error: data.error } : {}), ...(data.check_error ? { check_error: data.check_error } : {}) }
      } else if (e.event === 'unanswerable') out.unanswerable = data
      else if (e.event === 'usage') out.usage = data
      else if (e.event === 'error') out.error = data
      else if (e.event === 'done') Object.assign(out, { ttft_ms: data.ttft_ms, total_ms: data.total_ms, finish_reason: data.finish_reason })
    },
  })
  const decoder = new TextDecoder()
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }))
  out.client_ms = Math.round(performance.now() - started)
  return out
}

export function summarise(records, price, model) {
  const n = records.length
  const answerable = records.filter((r) => r.gold_sql !== null)
  const unanswerable = records.filter((r) => r.gold_sql === null)
  const pct = (a, b) => (b ? Math.round((1000 * a) / b) / 10 : null)
  const sum = (f) => records.reduce((s, r) => s + (f(r) ?? 0), 0)
  const tokensIn = sum((r) => r.usage?.input_tokens)
  const tokensOut = sum((r) => r.usage?.output_tokens)
  const categories = {}
  for (const r of records) {
    const c = (categories[r.category ?? 'other'] ??= { n: 0, correct: 0 })
    c.n++
    if (r.correct) c.correct++
  }
  const withSql = records.filter((r) => r.check)
  return {
    model,
    questions: n,
    execution_accuracy: pct(records.filter((r) => r.correct).length, n),
    answerable: { n: answerable.length, accuracy: pct(answerable.filter((r) => r.correct).length, answerable.length), declared_unanswerable: pct(answerable.filter((r) => r.unanswerable).length, answerable.length) },
    unanswerable: { n: unanswerable.length, recognised: pct(unanswerable.filter((r) => r.correct).length, unanswerable.length) },
    by_category: Object.fromEntries(Object.entries(categories).map(([k, v]) => [k, { ...v, accuracy: pct(v.correct, v.n) }])),
    check: { answers_with_sql: withSql.length, passed: pct(withSql.filter((r) => r.check.ok && r.check.checked).length, withSql.length), unchecked: pct(withSql.filter((r) => !r.check.checked).length, withSql.length) },
    repair: { rate: pct(records.filter((r) => r.repaired).length, n), repaired_and_correct: records.filter((r) => r.repaired && r.correct).length },
    unanswerable_rate: pct(records.filter((r) => r.unanswerable).length, n),
    tokens: { input: tokensIn, output: tokensOut, per_question_input: n ? Math.round(tokensIn / n) : 0, per_question_output: n ? Math.round(tokensOut / n) : 0 },
    cost_cny: price ? Math.round(((tokensIn * price.in + tokensOut * price.out) / 1e6) * 10000) / 10000 : null,
    latency_ms: {
      ttft_p50: percentile(records.map((r) => r.ttft_ms), 0.5),
      ttft_p90: percentile(records.map((r) => r.ttft_ms), 0.9),
      total_p50: percentile(records.map((r) => r.total_ms), 0.5),
      total_p90: percentile(records.map((r) => r.total_ms), 0.9),
    },
  }
}

function percentile(values, p) {
  const v = values.filter((x) => typeof x === 'number').sort((a, b) => a - b)
  return v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))] : null
}

export function formatSummary(s) {
  const cats = Object.entries(s.by_category).map(([k, v]) => `${k} ${v.correct}/${v.n}`).join(', ')
  return [
    '',
    `execution accuracy: ${s.execution_accuracy}% of ${s.questions} (model ${s.model})`,
    `  answerable: ${s.answerable.accuracy}% of ${s.answerable.n} (declared unanswerable: ${s.answerable.declared_unanswerable}%); cannot-answer questions recognised: ${s.unanswerable.recognised}% of ${s.unanswerable.n}`,
    `  by category: ${cats}`,
    `SQL check passed: ${s.check.passed}% of ${s.check.answers_with_sql} answers with SQL (unchecked ${s.check.unchecked}%); repair rate ${s.repair.rate}% (${s.repair.repaired_and_correct} repaired and correct); unanswerable rate ${s.unanswerable_rate}%`,
    `tokens: ${s.tokens.input} in + ${s.tokens.output} out (${s.tokens.per_question_input} + ${s.tokens.per_question_output} per question)${s.cost_cny !== null ? `; cost ≈ ¥${s.cost_cny}` : ''}`,
    `latency: first token p50 ${s.latency_ms.ttft_p50} ms / p90 ${s.latency_ms.ttft_p90} ms; whole answer p50 ${s.latency_ms.total_p50} ms / p90 ${s.latency_ms.total_p90} ms`,
  ].join('\n')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    if (err instanceof UsageError) {
      console.error(`eval:live: ${err.message}`)
      process.exit(2)
    }
    console.error(err)
    process.exit(1)
  })
}
