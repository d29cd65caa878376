import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/local-postgres.mjs'
// @ts-expect-error plain ESM JavaScript tool, no type declarations
import { startFakeDashScope } from '../../tools/fake-dashscope/server.mjs'
import { HOSTILE } from '../fixtures/hostile-sql'
import { readEvents, type ParsedEvent } from '../support/streams'
import { startDevServer, type DevServer } from './dev-server'

// The Hyperdrive way as a user starts it: `npm start` with only wrangler's own variable,
// CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE, pointing at a Postgres — no
// DATABASE_URL — so wrangler dev connects the HYPERDRIVE binding straight to it. The database is
// not the demo: it holds a canary table the demo lacks, so a checked query on it was checked there.
const root = join(import.meta.dirname, '..', '..')
const fence = (sql: string) => `我来写查询。\n\`\`\`sql\n${sql}\n\`\`\``
const CANARY = '金丝雀表里有什么'
const TYPO = '金丝雀表的备注（拼错）'
const hostileQuestion = (i: number) => `危险问题 ${i}`
const answers = {
  [CANARY]: fence('SELECT id, note FROM canary ORDER BY id'),
  [TYPO]: fence('SELECT nte FROM canary'),
  ...Object.fromEntries(HOSTILE.map((h, i) => [hostileQuestion(i), fence(h.sql)])),
}

let pg: LocalPostgres
let fake: { url: string; close: () => Promise<void> }

const ask = async (server: DevServer, question: string, execute = false): Promise<ParsedEvent[]> => {
  const res = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question, execute }) })
  expect(res.status).toBe(200)
  return readEvents(res.body!)
}
const data = (events: ParsedEvent[], name: string) => events.find((e) => e.event === name)?.data
const settings = (connection: string) => ({
  CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: connection,
  DATABASE_URL: undefined,
  DATABASE_URL_READONLY: undefined,
  NEON_WS_PROXY: undefined,
  API_KEYS: undefined,
  DASHSCOPE_API_KEY: 'fake-key',
  DASHSCOPE_BASE_URL: fake.url,
  SQL_EXECUTE: 'true',
  SQL_REPAIR: 'false',
  SQL_CHECK_TIMEOUT_MS: '2000',
  SQL_EXECUTE_TIMEOUT_MS: '500',
  // Every question reaches the (fake) model, however little it names a table.
  UNANSWERABLE_MIN_SCORE: '0',
})

beforeAll(async () => {
  pg = await startLocalPostgres()
  pg.psql('CREATE DATABASE company')
  pg.psql(readFileSync(join(root, 'db/demo/metro.sql'), 'utf8'), 'company')
  pg.psql(readFileSync(join(root, 'test/fixtures/db/guard.sql'), 'utf8'), 'company')
  fake = await startFakeDashScope({ apiKey: 'fake-key', answers })
}, 60_000)

afterAll(async () => {
  await fake?.close()
  pg?.stop()
})

describe('npm start with only CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE, as the read-only role', () => {
  let server: DevServer
  beforeAll(async () => {
    server = await startDevServer(settings(pg.url('txt2sql_ro', 'ro-pw', 'company')))
  }, 120_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('says it reaches the database through the Hyperdrive binding, starts no WebSocket relay and prints no password', () => {
    const out = server.output()
    expect(out).toContain('[dev] database: node-postgres through the Hyperdrive binding HYPERDRIVE, which wrangler dev connects straight to postgres://txt2sql_ro@127.0.0.1:')
    expect(out).not.toContain('through the WebSocket relay')
    expect(out).not.toContain('[ws-relay]')
    expect(out).not.toContain('ro-pw')
    // The derived configuration is npm start's, so wrangler's warning about its types is not the user's.
    expect(out).not.toContain('Your types might be out of date')
  })

  it('answers with SQL checked by that Postgres, and reports its refusals with its own SQLSTATE', async () => {
    expect(data(await ask(server, CANARY), 'sql')).toMatchObject({ sql: 'SELECT id, note FROM canary ORDER BY id', ok: true, checked: true })
    expect(data(await ask(server, TYPO), 'sql')).toMatchObject({ ok: false, checked: true, pg_code: '42703', error: 'column "nte" does not exist' })
  })

  it('runs the SQL read-only when asked, and a second and third time', async () => {
    for (let i = 0; i < 3; i++) {
      const events = await ask(server, CANARY, true)
      expect(data(events, 'rows')).toMatchObject({ columns: [{ name: 'id', type: 'integer' }, { name: 'note', type: 'text' }], rows: [[1, 'untouched'], [2, 'untouched']] })
      expect(data(events, 'result')).toMatchObject({ ok: true, row_count: 2, truncated: false })
    }
  })

  it('blocks every hostile statement, and none changes anything', async () => {
    for (const [i, h] of HOSTILE.entries()) {
      const events = await ask(server, hostileQuestion(i), true)
      const sql = data(events, 'sql') as { ok: boolean; checked?: boolean }
      const result = data(events, 'result') as { ok: boolean } | undefined
      // Stopped at the check, or — when it may plan — when it runs; never a successful run.
      expect(sql.checked, h.name).toBe(true)
      expect(sql.ok && result?.ok, h.name).not.toBe(true)
      if (h.stage === 'check') expect(sql.ok, h.name).toBe(false)
      if (h.stage === 'run') expect(result, h.name).toMatchObject({ ok: false })
      expect(events.at(-1)!.event, h.name).toBe('done')
    }
    expect(pg.psql('SELECT id, note FROM canary ORDER BY id', 'company')).toBe('1|untouched\n2|untouched\n')
    expect(pg.psql("SELECT to_regclass('public.stolen') IS NULL, (SELECT last_value FROM ticket_seq), (SELECT is_called FROM ticket_seq)", 'company')).toBe('t|1|f\n')
    expect(pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", 'company')).toBe('0\n')
  }, 240_000)
})

describe('npm start with the binding pointing at a superuser', () => {
  let server: DevServer
  beforeAll(async () => {
    server = await startDevServer(settings(pg.url('postgres', 'postgres', 'company')))
  }, 120_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('checks the SQL but refuses to run it', async () => {
    const events = await ask(server, CANARY, true)
    expect(data(events, 'sql')).toMatchObject({ ok: true, checked: true })
    expect(data(events, 'result')).toMatchObject({ ok: false, code: 'execution_refused', error: expect.stringMatching(/superuser/) })
    expect(events.some((e) => e.event === 'rows')).toBe(false)
  })
})
