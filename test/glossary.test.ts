import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { demoSnapshot } from '../src/demo/metro-snapshot'
import { buildPrompt } from '../src/prompt/build-prompt'
import { checkGlossary, GLOSSARY_KEY, matchGlossary, type Glossary } from '../src/schema/glossary'
import { loadSnapshot } from '../src/schema/snapshot-store'
import { SnapshotSchema } from '../src/schema/snapshot-schema'
import { ask, call, clearSnapshot, dbEnv, fakeRecord, fakeUrl, putDemoSnapshot } from './support/app'
import { readEvents } from './support/streams'

const ADMIN = { ADMIN_TOKEN: 'admin-secret' }
const auth = { authorization: 'Bearer admin-secret' }
const putGlossary = (body: unknown, headers: Record<string, string> = auth, overrides: Record<string, string> = ADMIN) =>
  call('/v1/admin/glossary', { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }, overrides)
const stored = () => loadSnapshot(env.SCHEMA_KV, { cacheTtlSeconds: 0 })

const METRO: Glossary = {
  terms: [
    { term: '客流', aliases: ['客流量', 'ridership'], definition: '客流 = 进站人次 + 出站人次（entries + exits），按日统计', columns: ['daily_ridership.entries', 'daily_ridership.exits'] },
    { term: '换乘站', definition: '属于两条及以上线路的站点，is_transfer 为 true', columns: ['stations.is_transfer'] },
    { term: '票务收入', aliases: ['营收'], definition: '演示口径：各站间票价之和', tables: ['public.fares'] },
  ],
}

beforeEach(async () => {
  await clearSnapshot()
  await putDemoSnapshot()
})

describe('PUT /v1/admin/glossary', () => {
  it('stores the glossary, returns it on GET, and puts it into the cached snapshot at once', async () => {
    const res = await putGlossary(METRO)
    expect(res.status).toBe(200)
    // A new content, a new version: the label it was uploaded with, and a hash of the content.
    expect(await res.json()).toEqual({ terms: 3, version: expect.stringMatching(/^demo-1\+[0-9a-f]{8}$/) })
    expect(await (await call('/v1/admin/glossary', { headers: auth }, ADMIN)).json()).toEqual(METRO)
    expect((await stored()).glossary).toEqual(METRO.terms)
    expect(await (await call('/v1/admin/schema', { headers: auth }, ADMIN)).json()).toMatchObject({ glossary: { terms: 3 } })
  })

  it('refuses references the schema lacks with 400 invalid_glossary, naming each, and stores nothing', async () => {
    const bad = { terms: [{ term: '客流', definition: 'x', columns: ['daily_ridership.entrys', 'nope.entries'] }, { term: '线网', definition: 'y', tables: ['network'] }, { term: '空', definition: 'z' }] }
    const res = await putGlossary(bad)
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string; details: unknown[] } }
    expect(body.error.code).toBe('invalid_glossary')
    expect(body.error.message).toContain('客流 → daily_ridership.entrys: no such column')
    expect(body.error.message).toContain('线网 → network: no such table')
    expect(body.error.details).toEqual([
      { term: '客流', ref: 'daily_ridership.entrys', problem: 'unknown_column' },
      { term: '客流', ref: 'nope.entries', problem: 'unknown_column' },
      { term: '线网', ref: 'network', problem: 'unknown_table' },
      { term: '空', ref: '', problem: 'no_reference' },
    ])
    expect(await env.SCHEMA_KV.get(GLOSSARY_KEY)).toBeNull()
    expect((await stored()).glossary).toBeUndefined()
  })

  it.each([
    ['no terms list', { words: [] }, 'terms'],
    ['an empty term', { terms: [{ term: ' ', definition: 'x', tables: ['lines'] }] }, 'terms.0.term'],
    ['a missing definition', { terms: [{ term: '客流', tables: ['lines'] }] }, 'terms.0.definition'],
  ])('refuses %s with 400 invalid_request naming the field', async (_name, body, field) => {
    const res = await putGlossary(body)
    expect(res.status).toBe(400)
    const error = ((await res.json()) as { error: { code: string; message: string } }).error
    expect(error.code).toBe('invalid_request')
    expect(error.message).toContain(field)
  })

  it('refuses a term given twice (also as an alias)', async () => {
    const res = await putGlossary({ terms: [{ term: '客流', definition: 'a', tables: ['daily_ridership'] }, { term: '人流', aliases: ['客流'], definition: 'b', tables: ['daily_ridership'] }] })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { details: unknown[] } }).error.details).toEqual([{ term: '人流', ref: '客流', problem: 'duplicate_term' }])
  })

  it('is 401 without the admin token, with a wrong one, and while ADMIN_TOKEN is unset', async () => {
    expect((await putGlossary(METRO, {})).status).toBe(401)
    expect((await putGlossary(METRO, { authorization: 'Bearer nope' })).status).toBe(401)
    expect((await putGlossary(METRO, auth, {})).status).toBe(401)
    expect((await call('/v1/admin/glossary', {}, ADMIN)).status).toBe(401)
    expect(await env.SCHEMA_KV.get(GLOSSARY_KEY)).toBeNull()
  })

  it('is 405 for another method, naming the allowed ones', async () => {
    const res = await call('/v1/admin/glossary', { method: 'POST', headers: auth }, ADMIN)
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, HEAD, PUT')
  })

  it('is 503 schema_unavailable while no snapshot is cached (references cannot be checked)', async () => {
    await clearSnapshot()
    const res = await putGlossary(METRO)
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('schema_unavailable')
  })
})

describe('the glossary survives refreshes and uploads', () => {
  it('a refresh from Postgres copies it into the new snapshot, leaving out (and reporting) references the database lost', async () => {
    expect((await putGlossary(METRO)).status).toBe(200)
    // Curated against a column the database does not have (any more): kept in KV, left out of the snapshot.
    const withStale = { terms: [...METRO.terms, { term: '满载率', definition: '断面客流 / 运力', columns: ['daily_ridership.load_factor'] }] }
    await env.SCHEMA_KV.put(GLOSSARY_KEY, JSON.stringify(withStale))
    const res = await call('/v1/admin/schema/refresh', { method: 'POST', headers: auth }, { ...ADMIN, ...dbEnv('metro') })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { version: string; glossary_unmatched: string[] }
    expect(body.glossary_unmatched).toEqual(['满载率 → daily_ridership.load_factor'])
    const snapshot = await stored()
    expect(snapshot.source).toBe('introspection')
    expect(snapshot.glossary).toEqual(METRO.terms)
    expect(JSON.parse((await env.SCHEMA_KV.get(GLOSSARY_KEY))!)).toEqual(withStale)
  })

  it('an uploaded snapshot without a glossary gets the curated one; one with its own must fit it', async () => {
    expect((await putGlossary(METRO)).status).toBe(200)
    const upload = (body: unknown) => call('/v1/admin/schema', { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) }, ADMIN)
    expect((await upload({ ...demoSnapshot, version: 'curated-8' })).status).toBe(200)
    expect((await stored()).glossary).toEqual(METRO.terms)
    const misfit = await upload({ ...demoSnapshot, version: 'curated-9', glossary: [{ term: 'x', definition: 'y', tables: ['nope'] }] })
    expect(misfit.status).toBe(400)
    expect(((await misfit.json()) as { error: { code: string } }).error.code).toBe('invalid_glossary')
    expect((await stored()).version).toBe('curated-8')
  })
})

describe('the glossary in linking and in the prompt', () => {
  const withGlossary = SnapshotSchema.parse({ ...demoSnapshot, glossary: METRO.terms })

  it('matches terms and aliases in Chinese anywhere, ASCII terms only as whole words', () => {
    expect(matchGlossary(METRO.terms, '上周客流量最大的站').map((e) => e.term)).toEqual(['客流'])
    expect(matchGlossary(METRO.terms, 'daily Ridership by station').map((e) => e.term)).toEqual(['客流'])
    expect(matchGlossary(METRO.terms, 'ridershipx')).toEqual([])
    expect(matchGlossary(METRO.terms, '武林广场站的出入口')).toEqual([])
  })

  it('checks references qualified or not', () => {
    expect(checkGlossary(METRO, demoSnapshot.tables)).toEqual([])
  })

  it('puts the definitions of the terms a question uses in the prompt — and only those', () => {
    const system = buildPrompt({ question: '换乘站昨天的客流是多少', snapshot: withGlossary }).messages[0]!.content
    expect(system).toContain('业务术语')
    expect(system).toContain('- 客流（又称客流量、ridership）：客流 = 进站人次 + 出站人次（entries + exits），按日统计〔对应：daily_ridership.entries、daily_ridership.exits〕')
    expect(system).toContain('- 换乘站：属于两条及以上线路的站点')
    expect(system).not.toContain('票务收入')
    const plain = buildPrompt({ question: '武林广场站有几个出入口', snapshot: withGlossary }).messages[0]!.content
    expect(plain).not.toContain('业务术语')
    expect(plain).toBe(buildPrompt({ question: '武林广场站有几个出入口', snapshot: demoSnapshot }).messages[0]!.content)
  })

  it('keeps the tables of a used term when the schema is cut to a budget', () => {
    // 营收 shares no word with fares (票价…), so linking alone does not keep it.
    const question = '上个月营收最高的是哪里'
    const budget = 450
    const without = buildPrompt({ question, snapshot: demoSnapshot, schemaTokenBudget: budget })
    const withTerm = buildPrompt({ question, snapshot: withGlossary, schemaTokenBudget: budget })
    expect(without.tables).not.toContain('fares')
    expect(withTerm.tables).toContain('fares')
    expect(withTerm.glossary).toEqual(['票务收入'])
  })

  it('through /v1/ask: the term\'s tables are in meta and its definition reaches DashScope', async () => {
    expect((await putGlossary(METRO)).status).toBe(200)
    const tag = `gloss-${Math.random().toString(36).slice(2)}`
    const events = await readEvents((await ask({ question: '上个月票务收入最高的是哪里' }, { SCHEMA_TOKEN_BUDGET: '450', DASHSCOPE_BASE_URL: fakeUrl(`tag=${tag}`) })).body!)
    expect(events[0]!.data.tables).toContain('fares')
    const system = (await fakeRecord(tag)).body.input.messages[0].content as string
    expect(system).toContain('- 票务收入（又称营收）：演示口径：各站间票价之和〔对应：public.fares〕')
    expect(system).not.toContain('- 客流')
  })
})
