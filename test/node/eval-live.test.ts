import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { readEvents } from '../support/streams'
import { startDevServer, type DevServer } from './dev-server'

// `npm run eval:live` end to end: the service under `npm start` on a real Postgres loaded with the
// demo database, the fake DashScope answering from a question → answer map — the gold SQL for some
// questions, equivalent SQL written differently for others, wrong SQL for the rest — so the scorer
// is seen to say both "correct" and "wrong".
type Q = { id: string; question: string; sql: string | null; category: string }
const all = JSON.parse(readFileSync(new URL('../../eval/questions/metro-zh.json', import.meta.url), 'utf8')) as Q[]
const pick = (question: string) => all.find((q) => q.question === question)!
const fence = (sql: string) => `您的问题是：…\n\n思考过程：\n- …\n\`\`\`sql\n${sql}\n\`\`\``

const CASES: { q: Q; answer: string | { answer: string; repair: string }; correct: boolean }[] = [
  { q: pick('沈塘桥地铁站的信息'), answer: fence(pick('沈塘桥地铁站的信息').sql!), correct: true },
  // Columns swapped, int vs bigint-as-string, an ORDER BY the gold does not have: the same answer.
  { q: pick('每个行政区有多少个地铁站'), answer: fence('SELECT count(*)::int AS n, district FROM stations GROUP BY district ORDER BY n'), correct: true },
  // numeric vs float: the same value within tolerance.
  { q: pick('线路的平均长度是多少公里'), answer: fence('SELECT avg(length_km)::float8 FROM lines'), correct: true },
  { q: pick('换乘站有多少个'), answer: fence('SELECT count(*) FROM stations'), correct: false },
  // The gold orders by seq: the reverse order is wrong.
  { q: pick('1号线经过哪些站点？按顺序列出'), answer: fence("SELECT s.name FROM station_lines sl JOIN lines l ON l.id = sl.line_id JOIN stations s ON s.id = sl.station_id WHERE l.name = '1号线' ORDER BY sl.seq DESC"), correct: false },
  // Refused by the service's check, repaired into the gold SQL: correct, and counted as repaired.
  { q: pick('所有线路的总长度'), answer: { answer: fence('SELECT sum(lenght_km) FROM lines'), repair: fence('SELECT sum(length_km) FROM lines') }, correct: true },
  { q: pick('地铁公司有多少名员工'), answer: '无法回答：数据库中没有员工的数据。', correct: true },
  { q: pick('电梯故障报修记录'), answer: fence('SELECT * FROM crk WHERE has_elevator'), correct: false },
  // Declined by linking before any call (no answer in the map is ever asked for).
  { q: pick('明天杭州会下雨吗'), answer: fence('SELECT 1'), correct: true },
]

// `--approved`: the team's approved examples, each asked held out; the fake answers plant one miss
// of every reason (and two hits), so each is seen to be classified.
const APPROVED: { question: string; sql: string; answer: string | { answer: string; repair: string }; reason: string | null }[] = [
  { question: '沈塘桥站在哪个行政区', sql: "SELECT district FROM stations WHERE name = '沈塘桥'", answer: fence("SELECT district FROM stations WHERE name LIKE '沈塘桥'"), reason: null },
  { question: '最长的线路叫什么', sql: 'SELECT name FROM lines ORDER BY length_km DESC, id LIMIT 1', answer: fence('SELECT name FROM lines ORDER BY length_km DESC, id LIMIT 1'), reason: null },
  { question: '每条线路的长度除以零', sql: 'SELECT length_km FROM lines', answer: fence('SELECT length_km / 0 FROM lines'), reason: 'sql_error' },
  { question: '线路颜色列表', sql: 'SELECT color FROM lines', answer: { answer: fence('SELECT colr FROM lines'), repair: fence('SELECT colour FROM lines') }, reason: 'refused' },
  { question: '线路的开通年份分布', sql: 'SELECT opened_on FROM lines', answer: '无法回答：数据库中没有这个数据。', reason: 'unanswerable' },
  { question: '二号线的全部站点', sql: 'SELECT station_id FROM station_lines WHERE line_id = 2', answer: fence('SELECT station_id FROM station_lines WHERE false'), reason: 'empty_result' },
  { question: '所有线路的名称', sql: 'SELECT name FROM lines', answer: fence('SELECT name FROM lines LIMIT 2'), reason: 'missing_rows' },
  { question: '前两条线路的名称', sql: 'SELECT name FROM lines WHERE id <= 2', answer: fence('SELECT name FROM lines'), reason: 'extra_rows' },
  { question: '最短的线路叫什么', sql: 'SELECT name FROM lines ORDER BY length_km, id LIMIT 1', answer: fence('SELECT name FROM lines ORDER BY length_km DESC, id LIMIT 1'), reason: 'wrong_values' },
  { question: '线路编号和名称', sql: 'SELECT id, name FROM lines', answer: fence('SELECT name FROM lines'), reason: 'column_mismatch' },
]

let pg: LocalPostgres
let fake: { url: string; close: () => Promise<void> }
let server: DevServer
let dir: string
let questionsFile: string
const metroUrl = () => pg.url('postgres', 'postgres', 'metro')

// Asynchronous: the fake DashScope lives in this process and must keep answering meanwhile.
function evalLive(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, DASHSCOPE_API_KEY: undefined, NEON_WS_PROXY: undefined, DATABASE_URL: metroUrl(), ...env })) if (v !== undefined) clean[k] = v
  const child = spawn(process.execPath, ['eval/live.mjs', ...args], { cwd: new URL('../..', import.meta.url).pathname, env: clean })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}
const results = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l)]
      } catch {
        return []
      }
    })

// A gold SQL that ends its own database session (on a superuser connection): the question fails,
// and the evaluator goes on with a new session for the next one.
const KILLER: Q = { id: 'kill', question: '沈塘桥站的站名是什么', sql: 'SELECT pg_terminate_backend(pg_backend_pid())', category: 'lookup' }

// An answer the service's admission gate refuses: eval:live runs it through the same gate, never against the database.
const SLEEPER: Q = { id: 'sleep', question: '沈塘桥站叫什么名字', sql: "SELECT name FROM stations WHERE name = '沈塘桥'", category: 'lookup' }

beforeAll(async () => {
  pg = await startLocalPostgres()
  pg.psql('CREATE DATABASE metro')
  pg.psql(readFileSync(new URL('../../db/demo/metro.sql', import.meta.url), 'utf8'), 'metro')
  fake = await startFakeDashScope({ apiKey: 'live-test-key', answers: { ...Object.fromEntries(CASES.map((c) => [c.q.question, c.answer])), [KILLER.question]: fence("SELECT name FROM stations WHERE name = '沈塘桥'"), [SLEEPER.question]: fence("SELECT pg_sleep(0.5)::text AS name"), ...Object.fromEntries(APPROVED.map((a) => [a.question, a.answer])) } })
  server = await startDevServer({ DATABASE_URL: metroUrl(), NEON_WS_PROXY: undefined, DASHSCOPE_API_KEY: 'live-test-key', DASHSCOPE_BASE_URL: fake.url, DASHSCOPE_MODEL: 'qwen-plus', API_KEYS: undefined, ADMIN_TOKEN: 'live-admin' })
  dir = mkdtempSync(join(tmpdir(), 'eval-live-'))
  questionsFile = join(dir, 'questions.json')
  writeFileSync(questionsFile, JSON.stringify(CASES.map((c) => c.q)))
}, 150_000)

afterAll(async () => {
  await server?.stop()
  await fake?.close()
  pg?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('npm run eval:live', () => {
  it('refuses clearly without DASHSCOPE_API_KEY unless --allow-fake', async () => {
    const r = await evalLive(['--questions', questionsFile, '--url', server.url])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('DASHSCOPE_API_KEY is not set')
    expect(r.stdout).toBe('')
  })

  it('refuses without DATABASE_URL, and names a missing --questions', async () => {
    expect((await evalLive(['--questions', questionsFile, '--url', server.url, '--allow-fake'], { DATABASE_URL: undefined })).stderr).toContain('DATABASE_URL is not set')
    expect((await evalLive(['--allow-fake'])).stderr).toContain('--questions FILE is required')
  })

  it('prints the cost estimate and asks nothing with --dry-run', async () => {
    const out = join(dir, 'dry.jsonl')
    const r = await evalLive(['--questions', questionsFile, '--url', server.url, '--allow-fake', '--dry-run', '--out', out])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`${CASES.length} to ask`)
    expect(r.stdout).toMatch(/cost estimate \(an estimate, not a quote\): 9 questions × ~3000 input \+ ~350 output tokens .* ≈ ¥0\.0279 at 0\.8\/2 CNY per million tokens \(list price of qwen-plus\)/)
  })

  it('scores each question both ways, reports the rates, and a rerun asks only what is missing', async () => {
    const out = join(dir, 'results.jsonl')
    const first = await evalLive(['--questions', questionsFile, '--url', server.url, '--allow-fake', '--out', out, '--concurrency', '3'])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    const byId = new Map(results(out).map((r) => [r.id, r]))
    expect(byId.size).toBe(CASES.length)
    for (const c of CASES) expect({ id: c.q.id, question: c.q.question, correct: byId.get(c.q.id).correct }).toEqual({ id: c.q.id, question: c.q.question, correct: c.correct })
    const r = (question: string) => byId.get(pick(question).id)
    expect(r('所有线路的总长度')).toMatchObject({ repaired: true, check: { ok: true, checked: true } })
    expect(r('换乘站有多少个').reason).toBe('a column of the gold result has no equal in the answer')
    expect(r('1号线经过哪些站点？按顺序列出').reason).toMatch(/another order/)
    expect(r('地铁公司有多少名员工').unanswerable).toMatchObject({ source: 'model' })
    expect(r('明天杭州会下雨吗')).toMatchObject({ unanswerable: { source: 'linking' }, usage: null })
    expect(r('沈塘桥地铁站的信息').usage.input_tokens).toBeGreaterThan(0)
    expect(r('沈塘桥地铁站的信息').total_ms).toEqual(expect.any(Number))

    const summary = JSON.parse(readFileSync(out.replace(/\.jsonl$/, '.summary.json'), 'utf8'))
    expect(summary).toMatchObject({
      questions: 9,
      execution_accuracy: 66.7,
      answerable: { n: 6, accuracy: 66.7, declared_unanswerable: 0 },
      unanswerable: { n: 3, recognised: 66.7 },
      repair: { rate: 11.1, repaired_and_correct: 1 },
      unanswerable_rate: 22.2,
    })
    expect(summary.check.answers_with_sql).toBe(7)
    expect(first.stdout).toContain('execution accuracy: 66.7% of 9')

    // Resumable: nothing left to ask; then with three results lost, exactly those three are asked.
    const again = await evalLive(['--questions', questionsFile, '--url', server.url, '--allow-fake', '--out', out])
    expect(again.stdout).toContain('9 already in')
    expect(again.stdout).toContain('0 to ask')
    expect(results(out)).toHaveLength(9)
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean)
    writeFileSync(out, `${lines.slice(0, 6).join('\n')}\n${lines[6]!.slice(0, 20)}`) // and a line cut mid-write
    const resumed = await evalLive(['--questions', questionsFile, '--url', server.url, '--allow-fake', '--out', out])
    expect(resumed.stdout).toContain('6 already in')
    expect(resumed.stdout).toContain('3 to ask')
    expect(new Set(results(out).map((x) => x.id)).size).toBe(9)
    expect(resumed.stdout).toContain('execution accuracy: 66.7% of 9')

    // A question whose gold SQL was edited since its result was written is asked again.
    const edited = CASES.map((c, i) => (i === 0 ? { ...c.q, sql: `${c.q.sql} ` + 'AND true' } : c.q))
    const editedFile = join(dir, 'edited.json')
    writeFileSync(editedFile, JSON.stringify(edited))
    const rerun = await evalLive(['--questions', editedFile, '--url', server.url, '--allow-fake', '--out', out])
    expect(rerun.stdout).toContain('8 already in')
    expect(rerun.stdout).toContain('1 to ask')
  })

  it('records a question whose database session died as failed, goes on with the others, and asks it again on a rerun', async () => {
    const file = join(dir, 'killer.json')
    const qs = [CASES[0]!.q, KILLER, CASES[1]!.q, CASES[2]!.q]
    writeFileSync(file, JSON.stringify(qs))
    const out = join(dir, 'killer.jsonl')
    const run = await evalLive(['--questions', file, '--url', server.url, '--allow-fake', '--out', out, '--concurrency', '1'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const byId = new Map(results(out).map((r) => [r.id, r]))
    expect(byId.get('kill')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^the gold SQL fails: terminating connection/) })
    for (const q of [CASES[0]!.q, CASES[1]!.q, CASES[2]!.q]) expect(byId.get(q.id), q.id).toMatchObject({ status: 'done', correct: true })
    const rerun = await evalLive(['--questions', file, '--url', server.url, '--allow-fake', '--out', out, '--concurrency', '1'])
    expect(rerun.stdout).toContain('3 already in')
    expect(rerun.stdout).toContain('1 to ask')
    expect(rerun.code).toBe(0)
  })

  it('runs the answered SQL through the service\'s admission gate: a refused answer is scored wrong with the rule, never run', async () => {
    const file = join(dir, 'sleeper.json')
    writeFileSync(file, JSON.stringify([SLEEPER]))
    const out = join(dir, 'sleeper.jsonl')
    const run = await evalLive(['--questions', file, '--url', server.url, '--allow-fake', '--out', out])
    expect(run.code).toBe(0)
    expect(results(out)[0]).toMatchObject({ id: 'sleep', correct: false, reason: 'the answered SQL fails: function pg_sleep is not allowed' })
  })

  it('says which database it cannot use, before asking anything', async () => {
    const r = await evalLive(['--questions', questionsFile, '--url', server.url, '--allow-fake', '--out', join(dir, 'dead.jsonl')], { DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:1/metro' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('cannot use DATABASE_URL: database_unreachable')
    expect(r.stderr).not.toContain('postgres:postgres')
  })
})

describe('npm run eval:live -- --approved', () => {
  it('needs the admin token', async () => {
    const r = await evalLive(['--approved', '--url', server.url, '--allow-fake'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--approved needs the admin token')
  })

  it('classifies each planted miss with its reason, prints the table, writes the results, stores the report and lists it', async () => {
    const imported = await fetch(`${server.url}/v1/admin/examples?refresh=true`, {
      method: 'POST',
      headers: { authorization: 'Bearer live-admin', 'content-type': 'application/json' },
      body: JSON.stringify(APPROVED.map(({ question, sql }) => ({ question, sql }))),
    })
    expect(imported.status).toBe(201)
    const { ids } = (await imported.json()) as { ids: string[] }
    const out = join(dir, 'approved.jsonl')
    const r = await evalLive(['--approved', '--url', server.url, '--allow-fake', '--admin-token', 'live-admin', '--out', out, '--min-accuracy', '50'])
    expect(r.stderr).toContain('under --min-accuracy 50%')
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('accuracy on approved examples: 20% (2/10')
    for (const reason of ['sql_error', 'refused', 'unanswerable', 'empty_result', 'missing_rows', 'extra_rows', 'wrong_values', 'column_mismatch']) expect(r.stdout).toMatch(new RegExp(`${reason} +1`))

    const byId = new Map(results(out).map((x) => [x.example_id, x]))
    APPROVED.forEach((a, i) => {
      const got = byId.get(ids[i])
      expect({ question: got.question, reason: got.hit ? null : got.reason }).toEqual({ question: a.question, reason: a.reason })
    })
    expect(byId.get(ids[6]).gold_rows.length).toBe(5)
    expect(byId.get(ids[6]).answer_rows.length).toBe(2)
    const summary = JSON.parse(readFileSync(out.replace(/\.jsonl$/, '.summary.json'), 'utf8'))
    expect(summary).toMatchObject({ total: 10, hits: 2, accuracy: 20, misses_by_reason: { sql_error: 1, refused: 1, wrong_values: 1 } })

    const listed = await fetch(`${server.url}/v1/admin/evals`, { headers: { authorization: 'Bearer live-admin' } })
    expect(listed.status).toBe(200)
    const { reports } = (await listed.json()) as { reports: { accuracy: number; misses: { example_id: string; reason: string; gold_sql: string; answer_sql: string | null }[] }[] }
    expect(reports[0]).toMatchObject({ accuracy: 20, total: 10, hits: 2 })
    expect(reports[0]!.misses.find((m) => m.reason === 'column_mismatch')).toMatchObject({ example_id: ids[9], gold_sql: 'SELECT id, name FROM lines', answer_sql: 'SELECT name FROM lines' })

    // The suites after this one answer without these examples.
    for (const id of ids) expect((await fetch(`${server.url}/v1/admin/examples/${id}${id === ids.at(-1) ? '?refresh=true' : ''}`, { method: 'DELETE', headers: { authorization: 'Bearer live-admin' } })).status).toBe(200)
  })

  it('refuses the holdout headers without the admin token', async () => {
    const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-txt2sql-holdout-example': '1' }, body: JSON.stringify({ question: '所有线路的名称' }) })
    expect(res.status).toBe(401)
    const wrong = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-txt2sql-holdout-example': '1', 'x-txt2sql-admin-token': 'guess' }, body: JSON.stringify({ question: '所有线路的名称' }) })
    expect(wrong.status).toBe(401)
  })
})

describe('the glossary and "cannot answer" through npm start', () => {
  const admin = { authorization: 'Bearer live-admin', 'content-type': 'application/json' }
  const askEvents = async (question: string) =>
    (await readEvents((await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) })).body!)).map((e) => e.event)

  it('a company word the schema lacks is declined until the glossary maps it, and the mapping survives a refresh', async () => {
    expect(await askEvents('上周营收多少')).toEqual(['meta', 'unanswerable', 'done'])
    const glossary = { terms: [{ term: '营收', definition: '演示口径：票价之和', columns: ['fares.price_yuan'] }] }
    const bad = await fetch(`${server.url}/v1/admin/glossary`, { method: 'PUT', headers: admin, body: JSON.stringify({ terms: [{ ...glossary.terms[0], columns: ['fares.price'] }] }) })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_glossary')
    const put = await fetch(`${server.url}/v1/admin/glossary`, { method: 'PUT', headers: admin, body: JSON.stringify(glossary) })
    expect(put.status).toBe(200)
    expect(await askEvents('上周营收多少')).toContain('sql')
    const refresh = await fetch(`${server.url}/v1/admin/schema/refresh`, { method: 'POST', headers: admin })
    expect(await refresh.json()).toMatchObject({ glossary_unmatched: [] })
    expect(await askEvents('上周营收多少')).toContain('sql')
    expect(await (await fetch(`${server.url}/v1/admin/glossary`, { headers: admin })).json()).toEqual(glossary)
  })
})

describe('npm run eval:live against the demo database of npm start (PGlite: one session at a time)', () => {
  let demo: DevServer
  let demoDbUrl: string
  beforeAll(async () => {
    // One npm start at a time: the tests above are done with theirs.
    await server.stop()
    demo = await startDevServer({ DATABASE_URL: undefined, NEON_WS_PROXY: undefined, DASHSCOPE_API_KEY: 'live-test-key', DASHSCOPE_BASE_URL: fake.url, DASHSCOPE_MODEL: 'qwen-plus', API_KEYS: undefined })
    // The address npm start prints for its demo database: what a user would put in DATABASE_URL.
    const port = /PGlite on 127\.0\.0\.1:(\d+)/.exec(demo.output())?.[1]
    expect(port).toBeDefined()
    demoDbUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`
  }, 120_000)
  afterAll(async () => {
    await demo?.stop()
  })

  it.each([['the default concurrency', []], ['--concurrency 1', ['--concurrency', '1']]])('at %s: every question scored, nothing failed, nothing left in the temp folder', async (_name, extra) => {
    const tmp = mkdtempSync(join(tmpdir(), 'eval-live-tmp-'))
    try {
      const out = join(dir, `demo-${extra.length}.jsonl`)
      const run = await evalLive(['--questions', questionsFile, '--url', demo.url, '--allow-fake', '--out', out, ...extra], { DATABASE_URL: demoDbUrl, TMPDIR: tmp })
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      const records = results(out)
      expect(records).toHaveLength(CASES.length)
      expect(records.filter((r) => r.status === 'failed')).toEqual([])
      for (const c of CASES) expect({ id: c.q.id, correct: records.find((r) => r.id === c.q.id).correct }).toEqual({ id: c.q.id, correct: c.correct })
      expect(run.stdout).toContain('execution accuracy: 66.7% of 9')
      expect(readdirSync(tmp)).toEqual([])
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })
})
