import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents } from '../support/streams'
import { startDevServer, type DevServer } from './dev-server'

let server: DevServer

// The fake DashScope answers each with valid SQL for the demo database (tools/fake-dashscope/answers.mjs):
// a station by name, a line's stations, ridership totals, and the fallback station list.
// The fake answers each from another of its canned SQL (a station, a line, ridership, and its
// fallback for a question that names none of those).
const QUESTIONS = ['沈塘桥地铁站的信息', '1号线有哪些站', '哪个站客流最多', '最早开通的有哪些']

/** Asks one question and returns its `sql` event. */
async function askSql(question: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) })
  expect(res.status).toBe(200)
  const events = await readEvents(res.body!)
  expect(events.map((e) => e.event)).not.toContain('repair')
  const sql = events.filter((e) => e.event === 'sql')
  expect(sql, JSON.stringify(events.map((e) => e.event))).toHaveLength(1)
  return sql[0]!.data
}

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
    expect(health).toEqual({ ok: true, schema_version: expect.stringMatching(/^pg-[0-9a-f]{12}$/), model: 'fake-qwen-plus', execute: false, execute_reason: { code: 'execute_not_allowed', message: expect.any(String) } })
    expect(server.output()).toContain('embedded demo database')
    const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '沈塘桥地铁站的信息' }) })
    expect(res.status).toBe(200)
    const events = await readEvents(res.body!)
    expect(events[0]!.data).toMatchObject({ model: 'fake-qwen-plus', schema_version: health.schema_version })
    expect(events[0]!.data.tables).toEqual(expect.arrayContaining(['stations', 'daily_ridership', 'station_ridership_totals']))
    expect(events.at(-3)!.data.ok).toBe(true)
    expect(events.at(-1)!.event).toBe('done')
  })

  it('checks every answer against the demo database: 12 questions in a row, then 6 at once', async () => {
    for (let i = 0; i < 12; i++) {
      const question = QUESTIONS[i % QUESTIONS.length]!
      expect(await askSql(question), `question ${i + 1}: ${question}`).toMatchObject({ ok: true, checked: true })
    }
    const together = await Promise.all(QUESTIONS.concat(QUESTIONS).slice(0, 6).map(askSql))
    expect(together).toEqual(Array.from({ length: 6 }, () => expect.objectContaining({ ok: true, checked: true })))
  })

  it('a client that fails a query mid-transaction and vanishes does not affect the next request', async () => {
    const port = Number(/PGlite on 127\.0\.0\.1:(\d+)/.exec(server.output())?.[1])
    expect(port).toBeGreaterThan(0)
    // Raw wire protocol: a failed transaction, then a named statement left half-sent (no Sync).
    const int32 = (n: number) => Buffer.from([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])
    const typed = (type: string, body: Buffer) => Buffer.concat([Buffer.from(type), int32(body.length + 4), body])
    const startupBody = Buffer.from('\0\x03\0\0user\0postgres\0database\0postgres\0\0', 'latin1')
    const socket = connect(port, '127.0.0.1')
    let received = ''
    socket.on('data', (d) => (received += d.toString('latin1')))
    socket.write(Buffer.concat([int32(startupBody.length + 4), startupBody]))
    socket.write(typed('Q', Buffer.from('BEGIN; SELECT nme FROM stations\0')))
    await expect.poll(() => received).toContain('does not exist')
    socket.write(typed('P', Buffer.from('txt2sql_1\0SELECT 1\0\0\0', 'latin1')))
    socket.destroy()
    expect(await askSql('沈塘桥地铁站的信息')).toMatchObject({ ok: true, checked: true })
  })

  it('never prints a secret', () => {
    expect(server.output()).not.toContain('fake-key')
  })
})
