import { env } from 'cloudflare:workers'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { extractSql } from '../src/sql/extract-sql'
import { withDb } from '../src/db/connect'
import { ask, call, clearSnapshot, dbEnv, dbEnvWithReadonly, fakeRecord, fakeUrl, type Overrides } from './support/app'
import { readEvents, type ParsedEvent } from './support/streams'
import { bearer, hsToken, JWT_SECRET } from './support/tokens'

// Verified answers (issue 31): an approved example answers its question — and the same question
// about another value of the same column — with its SQL, checked now as the caller, and no call to
// DashScope. The `guard` database holds the metro demo and a read-only login (rows run only as a
// login that is no superuser); the examples live in a schema of their own there.
const SCHEMA = 'verified_test'
const TABLE = `${SCHEMA}.txt2sql_examples`
const ROLE = 'verified_t_reader'
const auth = { authorization: 'Bearer admin-secret' }
const EX = (extra: Record<string, string> = {}): Overrides =>
  dbEnvWithReadonly('guard', 'guardReadonly', { ADMIN_TOKEN: 'admin-secret', EXAMPLES_TABLE: TABLE, SCHEMA_CACHE_TTL_SECONDS: '0', SQL_EXECUTE: 'true', ...extra })
const JWT = (extra: Record<string, string> = {}) => EX({ JWT_SECRET, DB_ROLES: ROLE, ...extra })

const dbConfig = () => readConfig({ ...env, ...dbEnv('guard') }).database
const query = <R = Record<string, unknown>>(text: string, values: unknown[] = []) => withDb(dbConfig(), (db) => db.query<R>(text, values), 30_000)

const STATION = { question: '沈塘桥地铁站的信息', sql: "SELECT * FROM stations WHERE name LIKE '%沈塘桥%'" }
const EXACT = { question: '沈塘桥站的开通日期', sql: "SELECT name, opened_on FROM stations WHERE name = '沈塘桥'" }
const LINES = { question: '一共有几条线路？', sql: 'SELECT count(*) AS lines FROM lines' }

const of = (events: ParsedEvent[], name: string) => events.filter((e) => e.event === name)
const meta = (events: ParsedEvent[]) => of(events, 'meta')[0]!.data as Record<string, any>

let tags = 0
/** Asks through a fake DashScope URL of its own: `called()` says whether DashScope was asked. */
async function asked(body: Record<string, unknown>, overrides: Overrides = EX(), headers: Record<string, string> = {}) {
  const tag = `verified-${++tags}-${Date.now()}`
  const res = await ask(body, { ...overrides, DASHSCOPE_BASE_URL: fakeUrl(`tag=${tag}`) }, headers)
  expect(res.status).toBe(200)
  const events = await readEvents(res.body!)
  return { events, called: async () => (await fakeRecord(tag)).seen }
}

async function approve(pairs: { question: string; sql: string }[], overrides: Overrides = EX()): Promise<string[]> {
  const res = await call('/v1/admin/examples?refresh=true', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(pairs) }, overrides)
  expect(res.status).toBe(201)
  const body = (await res.json()) as { ids: string[]; refresh: { ok: boolean } }
  expect(body.refresh).toMatchObject({ ok: true })
  return body.ids
}

beforeAll(async () => {
  await query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`)
  await query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}') THEN CREATE ROLE ${ROLE} NOLOGIN; END IF; END $$`)
  await query(`GRANT USAGE ON SCHEMA public TO ${ROLE}`)
  // The read-only login checks and runs as the caller's role: it must be a member.
  await query(`GRANT ${ROLE} TO txt2sql_ro`)
})
beforeEach(async () => {
  await clearSnapshot()
  await query(`DROP TABLE IF EXISTS ${TABLE}`)
  await query(`GRANT SELECT ON stations, lines TO ${ROLE}`)
})

describe('a question an approved example answers is answered verified, with no DashScope call', () => {
  it('the same question (after normalisation) gets the approved SQL, checked, with meta.verified', async () => {
    const [id] = await approve([STATION])
    for (const question of ['沈塘桥地铁站的信息', ' 沈塘桥 地铁站的信息吗？', '沈塘桥地铁站的信息!', '沈塘桥地铁站的信息呢']) {
      const { events, called } = await asked({ question })
      expect(meta(events).verified).toEqual({ example_id: id, approved_at: expect.stringMatching(/Z$/) })
      expect(of(events, 'sql')[0]!.data).toMatchObject({ sql: STATION.sql, ok: true, checked: true })
      expect(of(events, 'usage')).toEqual([])
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'stop' } })
      expect(await called()).toBe(false)
    }
  })

  it('restates the question like every answer, then the ✓ line and the SQL block; meta.tables names tables as the prompt does', async () => {
    const [id] = await approve([STATION])
    for (const question of [STATION.question, ' 沈塘桥\n地铁站的信息？']) {
      const { events, called } = await asked({ question })
      expect(meta(events).verified).toMatchObject({ example_id: id })
      const text = of(events, 'delta').map((e) => e.data.text).join('')
      expect(text).toBe(`您的问题是：${question.replace(/\s+/g, ' ').trim()}\n\n✓ 已验证的查询（示例 #${id}）\n\n\`\`\`sql\n${STATION.sql}\n\`\`\`\n`)
      // What a client extracting the answer's SQL (the old /getAnwser clients) takes from it.
      expect(extractSql(text)).toEqual({ ok: true, sql: STATION.sql })
      // The demo's tables are all in public: the prompt, and so the model path's meta, names them unqualified.
      expect(meta(events).tables).toEqual(['stations'])
      expect(await called()).toBe(false)
    }
  })

  it('runs the rows fresh when asked', async () => {
    await approve([LINES])
    const { events, called } = await asked({ question: '一共有几条线路', execute: true })
    expect(meta(events).verified).toBeDefined()
    const [count] = await query<{ n: number }>('SELECT count(*)::int AS n FROM lines')
    expect(Number((of(events, 'rows')[0]!.data.rows as unknown[][])[0]![0])).toBe(count!.n)
    expect(of(events, 'result')[0]!.data).toMatchObject({ ok: true, row_count: 1 })
    expect(await called()).toBe(false)
  })

  it('a question that differs in a word that is not a value is answered by the model', async () => {
    await approve([STATION])
    const { events, called } = await asked({ question: '沈塘桥地铁站的客流' })
    expect(meta(events).verified).toBeUndefined()
    expect(await called()).toBe(true)
  })

  it('a question with history is answered by the model', async () => {
    await approve([STATION])
    const { events, called } = await asked({ question: STATION.question, history: [{ role: 'user', content: '你好' }, { role: 'assistant', content: '你好！' }] })
    expect(meta(events).verified).toBeUndefined()
    expect(await called()).toBe(true)
  })
})

describe('verified with a value swapped (★)', () => {
  it('inside a LIKE pattern: another station of stations.name, escaped, runnable as it is', async () => {
    const [id] = await approve([STATION])
    const { events, called } = await asked({ question: '武林广场地铁站的信息', execute: true })
    expect(meta(events).verified).toEqual({ example_id: id, approved_at: expect.any(String), substituted: { column: 'stations.name', from: '沈塘桥', to: '武林广场' } })
    const sql = of(events, 'sql')[0]!.data
    expect(sql).toMatchObject({ sql: "SELECT * FROM stations WHERE name LIKE '%武林广场%'", ok: true, checked: true })
    const rows = of(events, 'rows').flatMap((e) => e.data.rows as unknown[][])
    expect(rows.length).toBeGreaterThan(0)
    expect(JSON.stringify(rows)).toContain('武林广场')
    expect(await called()).toBe(false)
  })

  it('in a plain literal', async () => {
    const [id] = await approve([EXACT])
    const { events, called } = await asked({ question: '武林广场站的开通日期？' })
    expect(meta(events).verified).toMatchObject({ example_id: id, substituted: { column: 'stations.name', from: '沈塘桥', to: '武林广场' } })
    expect(of(events, 'sql')[0]!.data).toMatchObject({ sql: "SELECT name, opened_on FROM stations WHERE name = '武林广场'", ok: true })
    expect(await called()).toBe(false)
  })

  it('never for a value the index does not know for that column', async () => {
    await approve([STATION])
    for (const question of ['火星基地地铁站的信息', '1号线地铁站的信息']) {
      const { events, called } = await asked({ question })
      expect(meta(events).verified).toBeUndefined()
      expect(await called()).toBe(true)
    }
  })
})

describe('the approved SQL is checked now, as the caller', () => {
  it("is refused when the caller's role may no longer read its table: the model answers, meta.verified_fallback says why", async () => {
    await approve([STATION], JWT())
    const token = await hsToken({ sub: 'ann', role: ROLE })
    const first = await asked({ question: STATION.question }, JWT(), bearer(token))
    expect(meta(first.events).verified).toMatchObject({ example_id: expect.any(String) })
    expect(await first.called()).toBe(false)

    await query(`REVOKE SELECT ON stations FROM ${ROLE}`)
    const second = await asked({ question: STATION.question }, JWT(), bearer(token))
    expect(meta(second.events).verified).toBeUndefined()
    expect(meta(second.events).verified_fallback).toEqual({ example_id: expect.any(String), error: expect.stringMatching(/permission denied/) })
    expect(await second.called()).toBe(true)
  })
})

describe('what an answer was built from', () => {
  it('meta lists the examples put in the prompt with their similarity, and the tables shown', async () => {
    const ids = await approve([STATION, LINES])
    const { events, called } = await asked({ question: '沈塘桥地铁站在哪个区' })
    expect(await called()).toBe(true)
    const m = meta(events)
    expect(m.examples.map((e: { id: string }) => e.id).sort()).toEqual([...ids].sort())
    for (const e of m.examples) expect(e.similarity).toEqual(expect.any(Number))
    expect(m.examples.find((e: { id: string }) => e.id === ids[0]).similarity).toBeGreaterThan(m.examples.find((e: { id: string }) => e.id === ids[1]).similarity)
    expect(m.glossary).toEqual([])
    expect(m.tables).toContain('stations')
  })

  it('meta lists the glossary terms the question matched', async () => {
    await approve([LINES])
    const glossary = { terms: [{ term: '换乘站', definition: '属于两条及以上线路的站点', columns: ['stations.is_transfer'] }] }
    const put = await call('/v1/admin/glossary', { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(glossary) }, EX())
    expect(put.status).toBe(200)
    const { events } = await asked({ question: '换乘站有哪些' })
    expect(meta(events).glossary).toEqual(['换乘站'])
    const other = await asked({ question: '沈塘桥地铁站在哪个区' })
    expect(meta(other.events).glossary).toEqual([])
  })

  it("lists only what the caller's role may read: an example on a table the role cannot read is neither used nor listed", async () => {
    const [station, fares] = await approve([STATION, { question: '票价最高的区间', sql: 'SELECT * FROM fares ORDER BY price_yuan DESC LIMIT 1' }], JWT({ API_KEYS: 'svc-key' }))
    const asService = await asked({ question: '沈塘桥地铁站在哪个区' }, JWT({ API_KEYS: 'svc-key' }), bearer('svc-key'))
    expect((meta(asService.events).examples as { id: string }[]).map((e) => e.id).sort()).toEqual([station, fares].sort())
    const token = await hsToken({ sub: 'ann', role: ROLE })
    const asRole = await asked({ question: '沈塘桥地铁站在哪个区' }, JWT({ API_KEYS: 'svc-key' }), bearer(token))
    expect((meta(asRole.events).examples as { id: string }[]).map((e) => e.id)).toEqual([station])
    expect(meta(asRole.events).tables).not.toContain('fares')
  })

  it('counts each example put in a prompt and each verified answer in the admin listing', async () => {
    const [station] = await approve([STATION])
    await asked({ question: '沈塘桥地铁站在哪个区' })
    await asked({ question: STATION.question })
    await asked({ question: '武林广场地铁站的信息' })
    let listed: { prompted: number; verified: number } | undefined
    for (let i = 0; i < 40; i++) {
      const res = await call(`/v1/admin/examples/${station}`, { headers: auth }, EX())
      listed = ((await res.json()) as { example: { prompted: number; verified: number } }).example
      if (listed.prompted >= 1 && listed.verified >= 2) break
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(listed).toMatchObject({ prompted: 1, verified: 2 })
  })
})
