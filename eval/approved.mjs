// npm run eval:live -- --approved: accuracy on the team's own approved examples, with reasons.
// Each approved example's question is asked with that example held out (neither in the prompt
// nor answered verified: the headers x-txt2sql-holdout-example + x-txt2sql-admin-token, which
// only the admin token opens), both SQLs run read-only and compared as eval:live compares them,
// and each miss gets one reason. The report is printed, written (--out) and stored in the service
// (POST /v1/admin/evals). docs/EVAL.md explains it.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { createParser } from 'eventsource-parser'
import { compareResults, missReason, ordersResult } from './compare-results.mjs'

export const REASONS = ['sql_error', 'refused', 'unanswerable', 'empty_result', 'missing_rows', 'extra_rows', 'wrong_values', 'column_mismatch']
/** Rows of each result kept in a miss (the report is for reading, not for replaying). */
const FIRST_ROWS = 5

/** Every approved example, paged. */
export async function fetchApproved(url, adminToken) {
  const out = []
  for (let offset = 0; ; offset += 1000) {
    const res = await fetch(`${url}/v1/admin/examples?status=approved&limit=1000&offset=${offset}`, { headers: { authorization: `Bearer ${adminToken}` } })
    if (res.status !== 200) throw new Error(`GET /v1/admin/examples: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`)
    const body = await res.json()
    out.push(...body.examples)
    if (out.length >= body.total || body.examples.length === 0) return out
  }
}

/** Asks one held-out question; reads only what scoring needs. */
async function askHeldOut(url, example, { adminToken, bearer }) {
  const res = await fetch(`${url}/v1/ask`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-txt2sql-holdout-example': example.id,
      'x-txt2sql-admin-token': adminToken,
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    body: JSON.stringify({ question: example.question, cache: false }),
  })
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`)
  const out = { sql: null, sqlOk: null, checkError: null, unanswerable: null, verified: false, error: null, model: null }
  const parser = createParser({
    onEvent: (e) => {
      const data = JSON.parse(e.data)
      if (e.event === 'meta') Object.assign(out, { model: data.model, verified: Boolean(data.verified) })
      else if (e.event === 'sql') Object.assign(out, { sql: data.sql, sqlOk: data.ok, checkError: data.error ?? null })
      else if (e.event === 'unanswerable') out.unanswerable = data
      else if (e.event === 'error') out.error = data
    },
  })
  const decoder = new TextDecoder()
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }))
  return out
}

/** One example scored: `{hit}` or a miss with its reason; `failed` when the evaluation itself could not run. */
export async function scoreExample(example, { url, adminToken, bearer, db, opts }) {
  const base = { example_id: example.id, question: example.question, gold_sql: example.sql }
  let answer
  try {
    answer = await askHeldOut(url, example, { adminToken, bearer })
  } catch (err) {
    return { ...base, failed: `service: ${err.message}` }
  }
  if (answer.error) return { ...base, failed: `${answer.error.code}: ${answer.error.message}` }
  if (answer.verified) return { ...base, failed: 'answered verified although held out' }
  const miss = (reason, extra = {}) => ({ ...base, answer_sql: answer.sql, hit: false, reason, gold_rows: [], answer_rows: [], ...extra })
  if (answer.unanswerable) return miss('unanswerable', { detail: answer.unanswerable.reason })
  if (answer.sql === null || answer.sqlOk === false) return miss('refused', { detail: answer.checkError ?? 'no SQL in the answer' })
  try {
    return await db.session(async (session) => {
      const gold = await session.run(example.sql, opts)
      if (!gold.ok) return { ...base, failed: `the approved SQL fails: ${gold.error}` }
      const predicted = await session.run(answer.sql, opts)
      const first = (r) => r.rows.slice(0, FIRST_ROWS)
      if (!predicted.ok) return miss('sql_error', { detail: predicted.error, gold_rows: first(gold) })
      const verdict = compareResults(gold, predicted, { ordered: ordersResult(example.sql) })
      if (verdict.match) return { ...base, answer_sql: answer.sql, hit: true }
      return miss(missReason(gold, predicted), { detail: verdict.reason, gold_rows: first(gold), answer_rows: first(predicted) })
    })
  } catch (err) {
    return { ...base, failed: err.message }
  }
}

export function buildReport(results, model, role) {
  const scored = results.filter((r) => !r.failed)
  const misses = scored.filter((r) => !r.hit)
  const hits = scored.length - misses.length
  const misses_by_reason = Object.fromEntries(REASONS.map((r) => [r, misses.filter((m) => m.reason === r).length]))
  return {
    at: new Date().toISOString(),
    model,
    role: role ?? null,
    total: scored.length,
    hits,
    accuracy: scored.length ? Math.round((1000 * hits) / scored.length) / 10 : 0,
    misses_by_reason,
    misses: misses.map(({ hit: _hit, ...m }) => m),
  }
}

export function formatReport(report, failed) {
  const lines = ['', `accuracy on approved examples: ${report.accuracy}% (${report.hits}/${report.total}, model ${report.model}${report.role ? `, role ${report.role}` : ''})`, '', 'reason            misses']
  for (const r of REASONS) lines.push(`${r.padEnd(18)}${report.misses_by_reason[r]}`)
  if (report.misses.length) {
    lines.push('', 'misses:')
    for (const m of report.misses) lines.push(`  #${m.example_id} ${m.reason.padEnd(16)} ${m.question.slice(0, 40)}${m.detail ? ` — ${m.detail.slice(0, 80)}` : ''}`)
  }
  if (failed.length) lines.push('', `not scored (${failed.length}): ${failed.map((f) => `#${f.example_id} ${f.failed}`).join('; ')}`)
  return lines.join('\n')
}

/** The whole run; resolves to the exit code (1 under --min-accuracy). */
export async function runApproved({ url, opts, db, adminToken, bearer, role, pool }) {
  const examples = await fetchApproved(url, adminToken)
  const health = await (await fetch(`${url}/healthz`)).json()
  console.log(`eval:live --approved — ${examples.length} approved examples from ${url}; model ${health.model ?? 'unknown'}${role ? `; as role ${role}` : ''}`)
  const results = []
  let finished = 0
  await pool(examples, opts.concurrency, async (example) => {
    const r = await scoreExample(example, { url, adminToken, bearer, db, opts })
    results.push(r)
    finished++
    console.log(`[${finished}/${examples.length}] ${r.failed ? 'ERR ' : r.hit ? 'ok  ' : 'miss'} #${example.id} ${example.question.slice(0, 40)}${r.failed ? ` — ${r.failed}` : r.hit ? '' : ` — ${r.reason}`}`)
  })
  results.sort((a, b) => Number(a.example_id) - Number(b.example_id))
  const report = buildReport(results, String(health.model ?? 'unknown'), role)
  const failed = results.filter((r) => r.failed)
  console.log(formatReport(report, failed))
  if (opts.out) {
    mkdirSync(dirname(opts.out), { recursive: true })
    writeFileSync(opts.out, '')
    for (const r of results) appendFileSync(opts.out, `${JSON.stringify(r)}\n`)
    writeFileSync(opts.out.replace(/\.jsonl$/, '') + '.summary.json', `${JSON.stringify(report, null, 2)}\n`)
  }
  const stored = await fetch(`${url}/v1/admin/evals`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(report) })
  if (stored.status === 201) console.log(`stored as ${(await stored.json()).id} (GET /v1/admin/evals)`)
  else console.error(`eval:live: the report was not stored: HTTP ${stored.status}: ${(await stored.text()).slice(0, 300)}`)
  if (opts.minAccuracy !== undefined && report.accuracy < opts.minAccuracy) {
    console.error(`eval:live: accuracy ${report.accuracy}% is under --min-accuracy ${opts.minAccuracy}%`)
    return 1
  }
  return 0
}
