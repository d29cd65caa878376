import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain ESM JavaScript tool
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { readEvents } from '../support/streams'
import { startDevServer, type DevServer } from './dev-server'

// The business glossary and "cannot answer" as a user meets them: `npm start` on the embedded demo
// database, the glossary put through the admin route, questions asked over HTTP. The fake
// DashScope is started here so the test can read the prompt the worker sent (its `tag=` record).
let server: DevServer
type FakeRecord = { body: { input?: { messages?: { role: string; content: string }[] } } | null }
let fake: { url: string; close: () => Promise<void>; setDefaultOptions: (options: string) => void; record: (tag: string) => FakeRecord | undefined }
const ADMIN = 'admin-token-for-glossary-test'
const KEY = 'fake-key-for-glossary-test'
const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }

const GLOSSARY = {
  terms: [
    { term: '客流', aliases: ['客流量'], definition: '客流 = 进站人次 + 出站人次（entries + exits），按日统计', columns: ['daily_ridership.entries', 'daily_ridership.exits'] },
    { term: '换乘站', definition: '属于两条及以上线路的站点，is_transfer 为 true', columns: ['stations.is_transfer'] },
  ],
}

async function askTagged(question: string, tag: string) {
  fake.setDefaultOptions(`tag=${tag}`)
  const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) })
  expect(res.status).toBe(200)
  const events = await readEvents(res.body!)
  const body = fake.record(tag)?.body
  return { events, prompt: body?.input?.messages?.map((m) => m.content).join('\n') ?? null }
}

beforeAll(async () => {
  fake = await startFakeDashScope({ apiKey: KEY })
  server = await startDevServer({ DASHSCOPE_API_KEY: KEY, DASHSCOPE_BASE_URL: fake.url, DASHSCOPE_PROTOCOL: 'native', ADMIN_TOKEN: ADMIN, API_KEYS: undefined, SQL_CHECK: 'false' })
}, 120_000)

afterAll(async () => {
  await server?.stop()
  await fake?.close()
})

describe('the glossary and "cannot answer" under npm start', () => {
  it('a glossary put through the admin route is read back, and a question using a term gets its definition and tables in the prompt', async () => {
    const put = await fetch(`${server.url}/v1/admin/glossary`, { method: 'PUT', headers: admin, body: JSON.stringify(GLOSSARY) })
    expect(put.status).toBe(200)
    expect(await put.json()).toMatchObject({ terms: 2 })
    expect(await (await fetch(`${server.url}/v1/admin/glossary`, { headers: admin })).json()).toEqual(GLOSSARY)

    const { events, prompt } = await askTagged('上周哪个站客流量最大？', `glossary-${Date.now()}`)
    expect(events[0]!.event).toBe('meta')
    expect(events[0]!.data.tables).toEqual(expect.arrayContaining(['daily_ridership']))
    expect(prompt).toContain('进站人次 + 出站人次')
    expect(events.at(-1)!.event).toBe('done')

    // A question without a term: no definition in its prompt.
    const plain = await askTagged('沈塘桥地铁站的信息', `plain-${Date.now()}`)
    expect(plain.prompt).not.toBeNull()
    expect(plain.prompt).not.toContain('进站人次 + 出站人次')
    // The demo's station-name hint is its operator setting (PROMPT_HINTS, set by npm start on the demo), not code.
    expect(plain.prompt).toContain("补充说明（本服务的运营方提供）：\n站名按模糊匹配查找")
  })

  it('a question no table matches is answered `unanswerable` by linking, without calling the model', async () => {
    const tag = `weather-${Date.now()}`
    const { events } = await askTagged('明天杭州会下雨吗？', tag)
    const names = events.map((e) => e.event)
    expect(names).toContain('unanswerable')
    expect(names).not.toContain('sql')
    expect(events.find((e) => e.event === 'unanswerable')!.data).toMatchObject({ source: 'linking', reason: expect.any(String), closest_tables: expect.any(Array) })
    expect(events.at(-1)!.data).toMatchObject({ finish_reason: 'unanswerable' })
    expect(fake.record(tag)).toBeUndefined()
  })
})
