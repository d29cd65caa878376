import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents } from '../support/streams'
import { startDevServer, type DevServer } from './dev-server'

let server: DevServer

beforeAll(async () => {
  // Nothing configured: what `npm start` does on a fresh clone.
  server = await startDevServer({ DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined, API_KEYS: undefined, DASHSCOPE_MODEL: undefined, DATABASE_URL: undefined, NEON_WS_PROXY: undefined })
}, 90_000)

afterAll(async () => {
  await server?.stop()
})

describe('npm start on embedded defaults', () => {
  it('answers from a live introspection of the embedded demo database, with the fake DashScope', async () => {
    const health = await (await fetch(`${server.url}/healthz`)).json()
    expect(health).toEqual({ ok: true, schema_version: expect.stringMatching(/^pg-[0-9a-f]{12}$/), model: 'fake-qwen-plus', execute: false })
    expect(server.output()).toContain('embedded demo database')
    const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '沈塘桥地铁站的信息' }) })
    expect(res.status).toBe(200)
    const events = await readEvents(res.body!)
    expect(events[0]!.data).toMatchObject({ model: 'fake-qwen-plus', schema_version: health.schema_version })
    expect(events[0]!.data.tables).toEqual(expect.arrayContaining(['stations', 'daily_ridership', 'station_ridership_totals']))
    expect(events.at(-3)!.data.ok).toBe(true)
    expect(events.at(-1)!.event).toBe('done')
  })

  it('never prints a secret', () => {
    expect(server.output()).not.toContain('fake-key')
  })
})
