import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { readEvents } from '../support/streams'
import { startDevServer, type DevServer } from './dev-server'

// `npm start` on a team's own database, not the metro demo: a small Chinook (test/fixtures/db/
// chinook.sql) in a real Postgres, reached with the roles docs/DATABASE.md and docs/SECURITY.md
// create. Whatever the service says of its own (prompt, MCP tools, start-up lines) must be about
// that database or about nothing in particular — never about the demo's metro.
const root = join(import.meta.dirname, '..', '..')
const METRO_WORDS = /地铁|站|沈塘桥|客流|线路|metro|station|subway/i
const ADMIN = 'own-schema-admin-token'
const UPSTREAM_KEY = 'own-schema-upstream-key'
const ANSWER = '您的问题是：有哪些艺术家？\n\n思考过程：\n- 查 artist 表。\n\n```sql\nSELECT name FROM artist ORDER BY name\n```'

let pg: LocalPostgres
let server: DevServer
let fake: { url: string; close: () => Promise<void>; setDefaultOptions: (options: string) => void; record: (tag: string) => { body: { input?: { messages?: { role: string; content: string }[] } } | null } | undefined }

beforeAll(async () => {
  pg = await startLocalPostgres()
  pg.psql('CREATE DATABASE chinook')
  pg.psql(readFileSync(join(root, 'test', 'fixtures', 'db', 'chinook.sql'), 'utf8'), 'chinook')
  fake = await startFakeDashScope({ apiKey: UPSTREAM_KEY, answers: { 有哪些艺术家: ANSWER } })
  server = await startDevServer({
    DASHSCOPE_API_KEY: UPSTREAM_KEY,
    DASHSCOPE_BASE_URL: fake.url,
    DASHSCOPE_MODEL: undefined,
    DATABASE_URL: pg.url('txt2sql', 'txt2sql-pw', 'chinook'),
    DATABASE_URL_READONLY: pg.url('txt2sql_ro', 'txt2sql-ro-pw', 'chinook'),
    NEON_WS_PROXY: undefined,
    ADMIN_TOKEN: ADMIN,
    API_KEYS: undefined,
    SQL_EXECUTE: 'true',
  })
}, 180_000)

afterAll(async () => {
  await server?.stop()
  await fake?.close()
  pg?.stop()
})

describe('npm start on a database that is not the demo', () => {
  it('introspects it: the schema cache holds its tables', async () => {
    const state = (await (await fetch(`${server.url}/v1/admin/schema`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { snapshot?: { tables?: number } }
    expect(JSON.stringify(state)).toContain('pg-')
    const mcp = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'describe_schema', arguments: {} } }),
    })
    expect(await mcp.text()).toContain('CREATE TABLE artist')
  })

  it('says nothing of the metro in its start-up lines', () => {
    const startup = server.output()
    expect(startup).toContain('[dev] txt2sql-edge is ready')
    expect(startup).not.toMatch(METRO_WORDS)
  })

  it('sends DashScope a prompt without a metro word, and answers from this database (first and second question)', async () => {
    for (const tag of [`own-1-${Date.now()}`, `own-2-${Date.now()}`]) {
      fake.setDefaultOptions(`tag=${tag}`)
      const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '有哪些艺术家', execute: true }) })
      expect(res.status).toBe(200)
      const events = await readEvents(res.body!)
      const prompt = fake.record(tag)?.body?.input?.messages?.map((m) => m.content).join('\n')
      expect(prompt).toContain('CREATE TABLE artist')
      expect(prompt).not.toMatch(METRO_WORDS)
      expect(events.find((e) => e.event === 'sql')?.data).toMatchObject({ sql: 'SELECT name FROM artist ORDER BY name', checked: true, ok: true })
      expect(events.find((e) => e.event === 'result')?.data).toMatchObject({ ok: true, row_count: 4 })
    }
  })

  it('lists MCP tools that say nothing of the metro', async () => {
    const res = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' })
    const text = await res.text()
    expect(text).toContain('describe_schema')
    expect(text).not.toMatch(METRO_WORDS)
  })
})
