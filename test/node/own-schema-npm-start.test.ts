import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { readEvents } from '../support/streams'
import { freePort, startDevServer, type DevServer } from './dev-server'

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

const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }

type Refresh = { unsampled_tables: { table: string; reason: string }[]; sampled_columns: number; indexed_columns: number }
async function refresh(): Promise<Refresh> {
  const res = await fetch(`${server.url}/v1/admin/schema/refresh`, { method: 'POST', headers: admin })
  expect(res.status).toBe(200)
  return (await res.json()) as Refresh
}

/** The system prompt DashScope received for a question. */
async function promptFor(question: string): Promise<string> {
  const tag = `prompt-${Date.now()}-${Math.random()}`
  fake.setDefaultOptions(`tag=${tag}`)
  const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) })
  await readEvents(res.body!)
  return fake.record(tag)?.body?.input?.messages?.[0]?.content ?? ''
}

/** The prompt's line for a column (its CREATE TABLE line). */
function lineOf(prompt: string, column: string): string {
  return prompt.split('\n').find((line) => line.trimStart().startsWith(column)) ?? `(no line for ${column})`
}

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

  it("shows a first screen of the lines a person needs — database, refresh, ready, try — with wrangler's output in a log file", () => {
    const startup = server.output()
    const screen = startup.slice(0, startup.indexOf('\n', startup.indexOf('"question"')) + 1).split('\n').filter(Boolean)
    expect(screen.length).toBeLessThanOrEqual(10)
    expect(startup).toContain('[dev] database: postgres://txt2sql@127.0.0.1')
    expect(startup).toMatch(/"refresh":"ok"/)
    expect(startup).toContain('[dev] schema cache: pg-')
    expect(startup).not.toContain('Your Worker has access to the following bindings')
    expect(startup).not.toContain('env.DB_SCHEMAS')
    const log = /its output goes to (\S+)/.exec(startup)?.[1]
    expect(readFileSync(join(server.stateDir, 'wrangler.log'), 'utf8')).toContain('Your Worker has access to the following bindings')
    expect(log).toBeDefined()
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

  it('names the table row-level security keeps from sampling and why; with BYPASSRLS for the introspection role the next refresh samples it', async () => {
    const first = await refresh()
    expect(first.unsampled_tables).toEqual([{ table: 'public.invoice', reason: expect.stringContaining('BYPASSRLS') }])
    expect(lineOf(await promptFor('有哪些艺术家'), 'billing_country')).not.toContain("'Brazil'")

    pg.psql('ALTER ROLE txt2sql BYPASSRLS')
    const second = await refresh()
    expect(second.unsampled_tables).toEqual([])
    expect(second.sampled_columns).toBeGreaterThan(first.sampled_columns)
    expect(lineOf(await promptFor('有哪些艺术家'), 'billing_country')).toContain("'Brazil'")
  })

  it('keeps a column\'s or a whole table\'s values out of the prompt and the link index when the overlay says samples: false', async () => {
    const before = await refresh()
    const prompt = await promptFor('有哪些艺术家')
    expect(lineOf(prompt, 'email')).toContain('@')
    expect(lineOf(prompt, 'country text')).toContain("'Brazil'")
    const overlay = { tables: { customer: { columns: { email: { samples: false }, phone: { comment: '联系电话', samples: false } } }, 'public.invoice': { samples: false } } }
    const put = await fetch(`${server.url}/v1/admin/schema/overlay?refresh=true`, { method: 'PUT', headers: admin, body: JSON.stringify(overlay) })
    expect(put.status).toBe(200)
    const after = (await put.json()) as { refresh: { indexed_columns: number; overlay_unmatched: string[] } }
    expect(after.refresh.overlay_unmatched).toEqual([])
    expect(after.refresh.indexed_columns).toBeLessThan(before.indexed_columns)
    const hidden = await promptFor('有哪些艺术家')
    expect(hidden).not.toContain('@')
    expect(hidden).not.toContain('+55')
    expect(lineOf(hidden, 'phone')).toContain('联系电话')
    expect(lineOf(hidden, 'billing_country')).not.toContain("'Brazil'")
    // What the overlay does not name keeps its samples.
    expect(lineOf(hidden, 'country text')).toContain("'Brazil'")
    // A refresh later (the cron's) keeps them out.
    await refresh()
    expect(await promptFor('有哪些艺术家')).not.toContain('@')
  })

  it('lists MCP tools that say nothing of the metro', async () => {
    const res = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' })
    const text = await res.text()
    expect(text).toContain('describe_schema')
    expect(text).not.toMatch(METRO_WORDS)
  })
})

describe("npm start on that database without a DashScope key: the fake answers with the SQL you give it (README, \"What npm start does\")", () => {
  let keyless: DevServer
  let scratch: string
  let fakePort: number
  let relayPort: number
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'own-answers-'))
    // As README writes it: the whole answer, the SQL last (here without a fence).
    writeFileSync(join(scratch, 'answers.json'), JSON.stringify({ 有哪些专辑: '您的问题是：有哪些专辑？\n\nSQL：SELECT title FROM album ORDER BY title' }))
    ;[fakePort, relayPort] = [await freePort(), await freePort()]
    // An approved example of this database (imported through the first service, same database):
    // what the next start suggests trying.
    const imported = await fetch(`${server.url}/v1/admin/examples`, { method: 'POST', headers: admin, body: JSON.stringify({ examples: [{ question: '每个国家有多少位客户', sql: 'SELECT country, count(*) FROM customer GROUP BY country' }] }) })
    expect(imported.status).toBe(201)
    keyless = await startDevServer({
      DASHSCOPE_API_KEY: undefined,
      DASHSCOPE_BASE_URL: undefined,
      DASHSCOPE_MODEL: undefined,
      FAKE_DASHSCOPE_ANSWERS: join(scratch, 'answers.json'),
      FAKE_DASHSCOPE_PORT: String(fakePort),
      WS_RELAY_PORT: String(relayPort),
      DATABASE_URL: pg.url('txt2sql', 'txt2sql-pw', 'chinook'),
      DATABASE_URL_READONLY: pg.url('txt2sql_ro', 'txt2sql-ro-pw', 'chinook'),
      NEON_WS_PROXY: undefined,
      API_KEYS: undefined,
      ADMIN_TOKEN: ADMIN,
      SQL_EXECUTE: 'true',
    })
  }, 120_000)
  afterAll(async () => {
    await keyless?.stop()
    if (scratch) rmSync(scratch, { recursive: true, force: true })
  })

  it("suggests trying this database's approved example questions, not the demo's", () => {
    const ready = keyless.output().slice(keyless.output().indexOf('is ready on'))
    expect(ready).toMatch(/npx txt2sql-edge ask [^\n]*"每个国家有多少位客户"/)
    expect(ready).toContain('{"question":"每个国家有多少位客户"}')
  })

  it('runs the fake and the relay on the ports named, and answers the question with that SQL, run on this database (twice)', async () => {
    expect(keyless.output()).toContain(`fake DashScope at http://127.0.0.1:${fakePort}`)
    expect(keyless.output()).toContain(`WebSocket relay the Neon driver needs at 127.0.0.1:${relayPort}`)
    expect(await (await fetch(`http://127.0.0.1:${fakePort}/__fake/health`)).json()).toEqual({ ok: true })
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${keyless.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '有哪些专辑', execute: true }) })
      const events = await readEvents(res.body!)
      expect(events.find((e) => e.event === 'sql')?.data).toMatchObject({ sql: 'SELECT title FROM album ORDER BY title', checked: true, ok: true })
      expect(events.find((e) => e.event === 'result')?.data).toMatchObject({ ok: true, row_count: 4 })
    }
  })
})
