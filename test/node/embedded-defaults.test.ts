import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents } from '../support/streams'
import { startDevServer, type DevServer } from './dev-server'

let server: DevServer

beforeAll(async () => {
  // Nothing configured: what `npm start` does on a fresh clone.
  server = await startDevServer({ DASHSCOPE_API_KEY: undefined, DASHSCOPE_BASE_URL: undefined, API_KEYS: undefined, DASHSCOPE_MODEL: undefined })
}, 90_000)

afterAll(async () => {
  await server?.stop()
})

describe('npm start on embedded defaults', () => {
  it('serves the demo schema and says the answers come from the fake DashScope', async () => {
    const health = await (await fetch(`${server.url}/healthz`)).json()
    expect(health).toEqual({ ok: true, schema_version: 'demo-1', model: 'fake-qwen-plus' })
    const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '沈塘桥地铁站的信息' }) })
    expect(res.status).toBe(200)
    const events = await readEvents(res.body!)
    expect(events[0]!.data.model).toBe('fake-qwen-plus')
    expect(events.at(-3)!.data.ok).toBe(true)
    expect(events.at(-1)!.event).toBe('done')
  })

  it('never prints a secret', () => {
    expect(server.output()).not.toContain('fake-key')
  })
})
