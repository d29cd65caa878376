import { env } from 'cloudflare:workers'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readConfig } from '../src/config'
import { withDb } from '../src/db/connect'
import { ask, call, clearSnapshot, dbEnv, dbEnvWithReadonly, fakeRecord, fakeUrl, type Overrides } from './support/app'
import { readEvents, type ParsedEvent } from './support/streams'
import { bearer, epochSeconds, hsToken, JWT_SECRET } from './support/tokens'

// The answer cache (issue 31): the same question under the same schema, role, claims and model
// settings replays the earlier answer with no DashScope call; the SQL is checked again and the rows
// run fresh. The `guard` database (the metro demo, a read-only login, the role guard_reader).
const ROLE = 'guard_reader'
const auth = { authorization: 'Bearer admin-secret' }
const SVC = (extra: Record<string, string> = {}): Overrides =>
  dbEnvWithReadonly('guard', 'guardReadonly', {
    ADMIN_TOKEN: 'admin-secret',
    ANSWER_CACHE_TTL_SECONDS: '600',
    SQL_EXECUTE: 'true',
    SCHEMA_CACHE_TTL_SECONDS: '0',
    JWT_SECRET,
    DB_ROLES: ROLE,
    API_KEYS: 'key-1',
    EXAMPLES_TABLE: 'cache_test.txt2sql_examples',
    ...extra,
  })
const KEY = bearer('key-1')

const dbConfig = () => readConfig({ ...env, ...dbEnv('guard') }).database
const query = <R = Record<string, unknown>>(text: string) => withDb(dbConfig(), (db) => db.query<R>(text), 30_000)
const fence = (sql: string) => `我来写查询。\n\`\`\`sql\n${sql}\n\`\`\``
const SQL = 'SELECT count(*) AS n FROM cache_probe'

const of = (events: ParsedEvent[], name: string) => events.filter((e) => e.event === name)
const meta = (events: ParsedEvent[]) => of(events, 'meta')[0]!.data as Record<string, any>

let tags = 0
// Each test asks its own question: a cache entry of an earlier test never answers a later one.
let question = ''
let run = 0
/** One question through a fake URL of its own (the cache key ignores the endpoint): `called()` says whether DashScope was asked. */
async function asked(body: Record<string, unknown>, headers: Record<string, string> = KEY, overrides: Overrides = SVC()) {
  const tag = `cache-${++tags}-${Date.now()}`
  const res = await ask({ question, execute: true, ...body }, { ...overrides, DASHSCOPE_BASE_URL: fakeUrl(`answer=${encodeURIComponent(fence(SQL))},tag=${tag}`) }, headers)
  expect(res.status).toBe(200)
  const events = await readEvents(res.body!)
  const rows = of(events, 'rows')[0]?.data.rows as unknown[][] | undefined
  return { events, requestId: meta(events).request_id as string, count: rows ? Number(rows[0]![0]) : null, called: async () => (await fakeRecord(tag)).seen }
}

/** Asks until the first answer is in the cache (it is stored after the response), then returns that replay. */
async function cachedReplay(body: Record<string, unknown> = {}, headers: Record<string, string> = KEY, overrides: Overrides = SVC()) {
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 50))
    const again = await asked(body, headers, overrides)
    if (meta(again.events).cached) return again
  }
  throw new Error('the answer was never cached')
}

beforeAll(async () => {
  await query('CREATE TABLE IF NOT EXISTS public.cache_probe (id serial PRIMARY KEY)')
  await query(`GRANT SELECT ON public.cache_probe TO txt2sql_ro, ${ROLE}`)
  await query(`COMMENT ON TABLE public.cache_probe IS '缓存探针'`)
})
beforeEach(async () => {
  question = `缓存探针第${++run}轮有几行`
  await clearSnapshot()
  const res = await call('/v1/admin/schema/refresh', { method: 'POST', headers: auth }, SVC())
  expect(res.status).toBe(200)
})

describe('a repeated question is answered from the cache', () => {
  it('makes no DashScope call, counts no tokens, says so in meta — and its rows reflect data changed in between', async () => {
    const first = await asked({})
    expect(await first.called()).toBe(true)
    expect(meta(first.events).cached).toBeUndefined()
    expect(of(first.events, 'usage')).toHaveLength(1)

    await query('INSERT INTO public.cache_probe DEFAULT VALUES')
    const second = await cachedReplay()
    expect(await second.called()).toBe(false)
    expect(meta(second.events).cached).toEqual({ at: expect.stringMatching(/Z$/), request_id: first.requestId })
    expect(second.requestId).not.toBe(first.requestId)
    expect(of(second.events, 'delta').map((e) => e.data.text).join('')).toBe(fence(SQL))
    expect(of(second.events, 'sql')[0]!.data).toMatchObject({ sql: SQL, ok: true, checked: true })
    expect(of(second.events, 'usage')).toEqual([])
    expect(second.count).toBe(first.count! + 1)
    expect(second.events.at(-1)).toMatchObject({ event: 'done', data: { finish_reason: 'stop' } })
  })

  it('the same question written differently (spaces, full-width, a trailing 吗) hits too', async () => {
    await asked({})
    await cachedReplay()
    const other = await asked({ question: ` ${question.replace('第', ' 第').replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))}吗？` })
    expect(meta(other.events).cached).toBeDefined()
    expect(await other.called()).toBe(false)
  })

  it('misses with history, with "cache": false, and when ANSWER_CACHE_TTL_SECONDS is 0', async () => {
    await asked({})
    await cachedReplay()
    const withHistory = await asked({ history: [{ role: 'user', content: '你好' }, { role: 'assistant', content: '你好' }] })
    expect(meta(withHistory.events).cached).toBeUndefined()
    expect(await withHistory.called()).toBe(true)
    const bypass = await asked({ cache: false })
    expect(meta(bypass.events).cached).toBeUndefined()
    expect(await bypass.called()).toBe(true)
    const off = await asked({}, KEY, SVC({ ANSWER_CACHE_TTL_SECONDS: '0' }))
    expect(meta(off.events).cached).toBeUndefined()
    expect(await off.called()).toBe(true)
  })

  it('misses after a glossary change (a new schema version)', async () => {
    await asked({})
    await cachedReplay()
    const glossary = { terms: [{ term: '探针', definition: '缓存探针表', tables: ['cache_probe'] }] }
    const put = await call('/v1/admin/glossary', { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(glossary) }, SVC())
    expect(put.status).toBe(200)
    const after = await asked({})
    expect(meta(after.events).cached).toBeUndefined()
    expect(await after.called()).toBe(true)
  })

  it('misses after an overlay change reaches the snapshot', async () => {
    await asked({})
    await cachedReplay()
    const overlay = { tables: { cache_probe: { comment: '缓存探针（测试用）' } } }
    const put = await call('/v1/admin/schema/overlay?refresh=true', { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(overlay) }, SVC())
    expect(put.status).toBe(200)
    const after = await asked({})
    expect(meta(after.events).cached).toBeUndefined()
    expect(await after.called()).toBe(true)
  })
})

describe('the cache is per role and per claims', () => {
  it('another role misses; a refreshed token of the same person hits; another tenant misses', async () => {
    const token = (claims: Record<string, unknown>) => hsToken({ sub: 'ann', role: ROLE, tenant: 'alpha', ...claims })
    // The service's role (an API key) first: a JWT with a role is another view.
    await asked({})
    await cachedReplay()
    const asRole = await asked({}, bearer(await token({})))
    expect(meta(asRole.events).cached).toBeUndefined()
    expect(await asRole.called()).toBe(true)

    const refreshed = await cachedReplay({}, bearer(await token({ iat: epochSeconds() + 1, exp: epochSeconds() + 900, jti: 'another-token', nbf: epochSeconds() - 5 })))
    expect(meta(refreshed.events).cached).toMatchObject({ request_id: asRole.requestId })
    expect(await refreshed.called()).toBe(false)

    const otherTenant = await asked({}, bearer(await token({ tenant: 'beta' })))
    expect(meta(otherTenant.events).cached).toBeUndefined()
    expect(await otherTenant.called()).toBe(true)
  })
})

describe('a wrong feedback on a cached answer', () => {
  it('evicts it: the next ask calls the model again', async () => {
    await asked({})
    const replay = await cachedReplay()
    const res = await call('/v1/feedback', { method: 'POST', headers: { ...KEY, 'content-type': 'application/json' }, body: JSON.stringify({ request_id: replay.requestId, correct: false }) }, SVC())
    // The request record is written after the answer: wait for it.
    let status = res.status
    for (let i = 0; i < 20 && status === 404; i++) {
      await new Promise((r) => setTimeout(r, 50))
      status = (await call('/v1/feedback', { method: 'POST', headers: { ...KEY, 'content-type': 'application/json' }, body: JSON.stringify({ request_id: replay.requestId, correct: false }) }, SVC())).status
    }
    expect(status).toBe(202)
    const after = await asked({})
    expect(meta(after.events).cached).toBeUndefined()
    expect(await after.called()).toBe(true)
  })
})
