import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { Client, neonConfig } from '@neondatabase/serverless'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { DatabaseConfig } from '../../src/config'
import { withDb } from '../../src/db/connect'
import { checkAndRun } from '../../src/db/guarded-sql'
import { HOSTILE } from '../fixtures/hostile-sql'
// @ts-expect-error plain ESM JavaScript tool
import { startPgliteServer } from '../../tools/pglite-server/server.mjs'
// @ts-expect-error plain ESM JavaScript tool
import { startWsRelay } from '../../tools/ws-relay/relay.mjs'
// @ts-expect-error plain ESM JavaScript script
import { startDemoDatabase } from '../../scripts/demo-database.mjs'

type Stats = { serving: boolean; waiting: number; served: number; refused: number; resetFailures: number; restarts: number }
type Demo = { url: string; readOnlyUrl: string; port: number; pid: () => number; stats: () => Stats; close: () => Promise<void> }
type Relay = { proxy: string; close: () => Promise<void> }

neonConfig.webSocketConstructor = WebSocket
let relay: Relay
// One demo database for the file, on disk so its size can be measured (loading it takes ~30 s here).
let demo: Demo
let dir: string
/** How long one statement may run on this file's demo database before it is ended. */
const STATEMENT_LIMIT_MS = 2000

beforeAll(async () => {
  relay = await startWsRelay({ port: 0 })
  dir = mkdtempSync(join(tmpdir(), 'txt2sql-demo-db-'))
  demo = await startDemoDatabase({ dataDir: dir, statementTimeoutMs: STATEMENT_LIMIT_MS })
}, 120_000)
afterAll(async () => {
  await demo?.close()
  await relay?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** A Neon driver session through the relay, as the worker opens one. */
async function session(url: string): Promise<Client> {
  const client = new Client({ connectionString: url })
  client.neonConfig.wsProxy = (host, port) => `${relay.proxy}?address=${host}:${port}`
  client.neonConfig.useSecureWebSocket = false
  client.neonConfig.pipelineTLS = false
  client.neonConfig.pipelineConnect = false
  client.on('error', () => {})
  await client.connect()
  return client
}

const dbConfig = (url: string): DatabaseConfig => ({
  driver: 'neon',
  url,
  schemas: ['public'],
  wsProxy: relay.proxy,
  connectTimeoutMs: 120_000,
  sampleValues: 0,
  sampleBudgetMs: 0,
  linkValuesPerColumn: 0,
  linkValuesTotal: 0,
  examplesTable: { schema: 'public', name: 'txt2sql_examples' },
})
const CHECK = { schemas: ['public'], checkTimeoutMs: 3000, executeTimeoutMs: 3000, maxRows: 50, maxBytes: 65_536, execute: false }
const check = (url: string, sql: string) => withDb(dbConfig(url), (db) => checkAndRun(db, sql, CHECK), 120_000)
const GOOD = "SELECT * FROM stations WHERE name LIKE '%沈塘桥%'"

/** What a session carries that the next client must not see. */
async function sessionState(client: Client) {
  const { rows } = await client.query(
    `SELECT (SELECT count(*)::int FROM pg_prepared_statements) AS statements, current_setting('work_mem') AS work_mem,
            now() = statement_timestamp() AS fresh_transaction, to_regclass('pg_temp.scratch') IS NULL AS no_temp_table`,
  )
  return rows[0]
}
const CLEAN = { statements: 0, work_mem: '4MB', fresh_transaction: true, no_temp_table: true }

// Raw wire-protocol bytes, for clients that misbehave in ways a driver never would.
const int32 = (n: number) => Buffer.from([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])
const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8')
const typed = (type: string, body: Buffer = Buffer.alloc(0)) => Buffer.concat([Buffer.from(type, 'latin1'), int32(body.length + 4), body])
const startup = (() => {
  const body = Buffer.concat([int32(196608), cstr('user'), cstr('postgres'), cstr('database'), cstr('postgres'), Buffer.from([0])])
  return Buffer.concat([int32(body.length + 4), body])
})()

/** A raw client: collects what the server sends; `until` waits for a byte pattern or the close. */
function rawClient(port: number) {
  const socket: Socket = connect(port, '127.0.0.1')
  let received = Buffer.alloc(0)
  let closed = false
  socket.on('data', (d) => (received = Buffer.concat([received, d])))
  socket.on('close', () => (closed = true))
  socket.on('error', () => {})
  return {
    socket,
    send: (bytes: Buffer) => socket.write(bytes),
    text: () => received.toString('latin1'),
    closed: () => closed,
    /** ReadyForQuery count so far: one per completed exchange. */
    ready: () => received.toString('latin1').split('Z\0\0\0\x05').length - 1,
  }
}

describe('the embedded demo database gives every connection a clean session of its own', () => {

  it('a named statement, SET, temporary table and open transaction left by one client are gone for the next', async () => {
    const first = await session(demo.url)
    await first.query({ name: 'txt2sql_1', text: 'SELECT 1' })
    await first.query("SET work_mem = '64MB'")
    await first.query('CREATE TEMP TABLE scratch (x int)')
    await first.query('BEGIN')
    await first.query('SELECT count(*) FROM stations')
    expect(await sessionState(first)).toMatchObject({ statements: 1, work_mem: '64MB', no_temp_table: false })
    await first.end()

    const next = await session(demo.url)
    expect(await sessionState(next)).toEqual(CLEAN)
    // The very statement name the old checks collided on is free again.
    await next.query({ name: 'txt2sql_1', text: 'SELECT 2' })
    await next.end()
  })

  it('a client that vanishes mid-transaction, inside an unfinished extended-protocol exchange, leaves nothing behind', async () => {
    const raw = rawClient(demo.port)
    raw.send(startup)
    await expect.poll(raw.ready).toBe(1)
    raw.send(typed('Q', cstr("BEGIN; SET LOCAL work_mem = '64MB'; SELECT nme FROM stations")))
    await expect.poll(raw.ready).toBe(2)
    expect(raw.text()).toContain('column "nme" does not exist')
    // Parse and Bind with no Sync: the session is left waiting for the rest of the exchange.
    raw.send(typed('P', Buffer.concat([cstr('txt2sql_1'), cstr('SELECT 1'), Buffer.from([0, 0])])))
    raw.socket.destroy()

    expect((await check(demo.url, GOOD)).check).toMatchObject({ ok: true })
    const next = await session(demo.url)
    expect(await sessionState(next)).toEqual(CLEAN)
    await next.end()
  })

  it('connections take turns: the second waits while the first holds a transaction, and never sees it', async () => {
    const first = await session(demo.url)
    await first.query('BEGIN')
    await first.query('CREATE TEMP TABLE scratch (x int)')
    const second = session(demo.url)
    await expect.poll(() => demo.stats().waiting).toBe(1)
    await first.query('ROLLBACK')
    await first.end()
    const client = await second
    expect(await sessionState(client)).toEqual(CLEAN)
    await client.end()
  })

  it('12 checks in a row and 6 at once all pass, and a failing one does not affect the next', async () => {
    for (let i = 0; i < 12; i++) expect((await check(demo.url, GOOD)).check, `check ${i + 1}`).toMatchObject({ ok: true })
    const together = await Promise.all(Array.from({ length: 6 }, () => check(demo.url, GOOD)))
    expect(together.map((r) => r.check.ok)).toEqual([true, true, true, true, true, true])
    expect((await check(demo.url, 'SELECT nme FROM stations')).check).toMatchObject({ ok: false, pg_code: '42703' })
    expect((await check(demo.url, GOOD)).check).toMatchObject({ ok: true })
    // The last session's reset follows its client's end: wait for it.
    await expect.poll(() => demo.stats()).toMatchObject({ serving: false, waiting: 0, resetFailures: 0 })
  })
})

describe('the demo database runs model SQL as a read-only login role, held to docs/SECURITY.md', () => {
  const RUN = { ...CHECK, execute: true, executeTimeoutMs: 500 }
  const run = (sql: string) => withDb(dbConfig(demo.readOnlyUrl), (db) => checkAndRun(db, sql, RUN), 120_000)
  /** One statement in a session of its own, as the superuser. */
  const asOwner = async (sql: string) => {
    const client = await session(demo.url)
    try {
      return (await client.query(sql)).rows
    } finally {
      await client.end()
    }
  }

  beforeAll(async () => {
    // What the hostile statements aim at (test/fixtures/db/guard.sql): a canary, a sequence, a
    // private schema the role may read, functions that write. The role itself is the demo's own.
    const guard = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'db', 'guard.sql'), 'utf8').replace(/^CREATE ROLE txt2sql_ro[^;]*;$/m, '')
    await asOwner(guard)
  }, 60_000)

  it('logs in as txt2sql_ro: no superuser, no server-file role, SELECT on the business tables only, read-only, with a statement timeout', async () => {
    const client = await session(demo.readOnlyUrl)
    const { rows } = await client.query(
      `SELECT session_user, current_user, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,
              pg_has_role(current_user, 'pg_read_server_files', 'USAGE') OR pg_has_role(current_user, 'pg_write_server_files', 'USAGE')
                OR pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') AS server_files,
              has_table_privilege('public.stations', 'SELECT') AS reads_stations,
              has_table_privilege('public.stations', 'INSERT,UPDATE,DELETE,TRUNCATE') AS writes_stations,
              has_schema_privilege('public', 'CREATE') AS creates_in_public,
              has_database_privilege(current_database(), 'TEMPORARY') AS makes_temp_objects,
              current_setting('default_transaction_read_only') AS read_only,
              current_setting('statement_timeout') AS statement_timeout
         FROM pg_roles r WHERE r.rolname = current_user`,
    )
    await client.end()
    expect(rows).toEqual([{
      session_user: 'txt2sql_ro', current_user: 'txt2sql_ro', rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false,
      server_files: false, reads_stations: true, writes_stations: false, creates_in_public: false, makes_temp_objects: false,
      read_only: 'on', statement_timeout: `${STATEMENT_LIMIT_MS / 1000}s`,
    }])
  })

  it('runs the checked SQL as that role: the rows come back', async () => {
    const result = await run('SELECT name FROM stations ORDER BY id LIMIT 3')
    expect(result.check).toMatchObject({ ok: true })
    expect(result.run).toMatchObject({ ok: true, columns: [{ name: 'name', type: 'character varying' }], rows: [[expect.any(String)], [expect.any(String)], [expect.any(String)]] })
  })

  describe('hostile SQL run as the role changes nothing and outlives nothing', () => {
    afterEach(async () => {
      expect(await asOwner('SELECT id, note FROM canary ORDER BY id')).toEqual([{ id: 1, note: 'untouched' }, { id: 2, note: 'untouched' }])
      expect(await asOwner("SELECT to_regclass('public.stolen') IS NULL AS gone")).toEqual([{ gone: true }])
      expect(await asOwner('SELECT last_value, is_called FROM ticket_seq')).toEqual([{ last_value: '1', is_called: false }])
      expect(await asOwner("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'")).toEqual([{ n: 0 }])
      expect(await asOwner("SELECT count(*)::int AS n FROM stations")).toEqual([{ n: expect.any(Number) }])
    })
    for (const h of HOSTILE) {
      it(`${h.name}: ${h.sql.replace(/\s+/g, ' ').slice(0, 60)}`, async () => {
        const { check, run: ran } = await run(h.sql)
        if (h.stage === 'check') expect(check.ok).toBe(false)
        // Nothing ran to completion, whatever stopped it.
        expect(ran?.ok ?? false).toBe(false)
        const error = check.ok ? (ran as { error: string }).error : check.error
        expect(error.length).toBeGreaterThan(0)
        if (h.error) expect(error).toMatch(h.error)
      }, 30_000)
    }
  })

  it('cannot become the superuser again from inside a query, even where the plan guard would not stop it', async () => {
    const client = await session(demo.readOnlyUrl)
    await expect(client.query("SELECT set_config('session_authorization', 'postgres', false)")).rejects.toMatchObject({ code: '42501' })
    expect((await client.query('SELECT session_user, current_user')).rows).toEqual([{ session_user: 'txt2sql_ro', current_user: 'txt2sql_ro' }])
    await expect(client.query('INSERT INTO canary VALUES (9, $1)', ['written'])).rejects.toMatchObject({ message: expect.stringMatching(/read-only transaction|permission denied/) })
    await client.end()
  })

  it('each connection runs as the role it logs in as, whatever the connection before it was', async () => {
    const who = async (url: string) => {
      const client = await session(url)
      const { rows } = await client.query("SELECT session_user, current_setting('default_transaction_read_only') AS read_only")
      await client.end()
      return rows[0]
    }
    expect(await who(demo.readOnlyUrl)).toEqual({ session_user: 'txt2sql_ro', read_only: 'on' })
    expect(await who(demo.url)).toEqual({ session_user: 'postgres', read_only: 'off' })
    expect(await who(demo.readOnlyUrl)).toEqual({ session_user: 'txt2sql_ro', read_only: 'on' })
  })

  it('refuses a role that does not exist, or may not log in, as Postgres does (28000)', async () => {
    await asOwner('DROP ROLE IF EXISTS no_login; CREATE ROLE no_login NOLOGIN')
    await expect(session(demo.url.replace('postgres:postgres@', 'nobody:x@'))).rejects.toMatchObject({ code: '28000', message: 'role "nobody" does not exist' })
    await expect(session(demo.url.replace('postgres:postgres@', 'no_login:x@'))).rejects.toMatchObject({ code: '28000', message: 'role "no_login" is not permitted to log in' })
    expect((await check(demo.url, GOOD)).check).toMatchObject({ ok: true })
  })
})

describe('the demo database ends a statement that runs too long, as statement_timeout would', () => {
  it('fails it with 57014 after the limit, reopens, and serves the next connection with the data intact', async () => {
    const restarts = demo.stats().restarts
    const client = await session(demo.readOnlyUrl)
    // Hours of work if nothing ended it.
    await expect(client.query('SELECT count(*) FROM generate_series(1, 1000000000000)')).rejects.toMatchObject({ code: '57014' })
    expect(demo.stats().restarts).toBe(restarts + 1)
    const next = await session(demo.readOnlyUrl)
    expect((await next.query("SELECT name FROM stations WHERE name LIKE '%沈塘桥%'")).rows).toEqual([{ name: '沈塘桥' }])
    await next.end()
    await expect.poll(() => demo.stats()).toMatchObject({ serving: false, waiting: 0 })
  })

  it('a connection waiting behind the runaway one keeps its place and is served after it', async () => {
    const runaway = await session(demo.readOnlyUrl)
    const failed = runaway.query('SELECT count(*) FROM generate_series(1, 1000000000000)').catch((err: { code?: string }) => err.code)
    const waiting = session(demo.readOnlyUrl)
    await expect.poll(() => demo.stats().waiting).toBe(1)
    expect(await failed).toBe('57014')
    const client = await waiting
    expect((await client.query('SELECT count(*)::int AS n FROM lines')).rows).toEqual([{ n: expect.any(Number) }])
    await client.end()
    // The runaway's connection was ended by the server (FATAL 57014): nothing to end on its side.
  })
})

describe('the demo database under many concurrent checks', () => {
  const dirBytes = () => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0])

  it('200 checks at once all pass, and neither the data directory nor the process grows without bound', async () => {
    // Warm up first, so what is measured is growth, not first use.
    for (let i = 0; i < 5; i++) await check(demo.url, GOOD)
    // PGlite runs in a process of its own (tools/pglite-server/pglite-process.mjs): its memory is what may grow.
    const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${demo.pid()}/status`, 'utf8'))?.[1]) * 1024
    const before = { dir: dirBytes(), rss: rss() }
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => check(demo.url, i % 2 ? GOOD : 'SELECT l.name, count(*) FROM station_lines sl JOIN lines l ON l.id = sl.line_id GROUP BY l.name')))
    expect(results.filter((r) => r.check.ok).length).toBe(200)
    const after = { dir: dirBytes(), rss: rss() }
    // Read-only checks write nothing but WAL for hint bits and the like; the earlier shared-session
    // server grew to gigabytes under 1,000.
    expect(after.dir - before.dir).toBeLessThan(32 * 1024 * 1024)
    expect(after.rss - before.rss).toBeLessThan(256 * 1024 * 1024)
    await expect.poll(() => demo.stats()).toMatchObject({ serving: false, waiting: 0, served: expect.any(Number), resetFailures: 0 })
    console.log(`[demo-db] 200 concurrent checks: data dir ${(before.dir / 1048576).toFixed(1)} → ${(after.dir / 1048576).toFixed(1)} MiB, PGlite process RSS ${(before.rss / 1048576).toFixed(0)} → ${(after.rss / 1048576).toFixed(0)} MiB`)
  })
})

describe('the PGlite server keeps serving when a client or PGlite misbehaves', () => {
  let pglite: PGlite
  beforeAll(async () => {
    pglite = await PGlite.create()
  })
  afterAll(async () => {
    await pglite?.close()
  })

  it('refuses a connection beyond the waiting queue with SQLSTATE 53300, as a full Postgres does', async () => {
    const server = await startPgliteServer({ db: pglite, maxWaiting: 1 })
    try {
      const first = rawClient(server.port)
      first.send(startup)
      await expect.poll(first.ready).toBe(1)
      const waiting = rawClient(server.port)
      waiting.send(startup)
      await expect.poll(() => server.stats().waiting).toBe(1)
      const refused = rawClient(server.port)
      refused.send(Buffer.concat([int32(8), int32(80877103)])) // SSLRequest first, as many drivers do
      refused.send(startup)
      await expect.poll(refused.closed).toBe(true)
      expect(refused.text()).toMatch(/^NE.*SFATAL.*C53300\0Msorry, too many clients already: the demo database serves one connection at a time and 1 are waiting/s)
      first.send(typed('X'))
      await expect.poll(waiting.ready).toBe(1)
      waiting.socket.destroy()
    } finally {
      await server.close()
    }
  })

  it('a query that throws inside PGlite ends only its own connection; the next client is served', async () => {
    let throwOnce = true
    const flaky = {
      query: (sql: string, params?: unknown[]) => pglite.query(sql, params),
      execProtocolRawStream: (message: Uint8Array, options: { onRawData: (d: Uint8Array) => void }) => {
        if (throwOnce && Buffer.from(message).includes('boom')) {
          throwOnce = false
          return Promise.reject(new Error('wasm trap'))
        }
        return pglite.execProtocolRawStream(message, options)
      },
    }
    const server = await startPgliteServer({ db: flaky })
    try {
      const first = rawClient(server.port)
      first.send(startup)
      await expect.poll(first.ready).toBe(1)
      first.send(typed('Q', cstr("SELECT 'boom'")))
      await expect.poll(first.closed).toBe(true)
      expect(first.text()).toContain('CXX000\0Mthe demo database failed: wasm trap')
      const next = rawClient(server.port)
      next.send(startup)
      next.send(typed('Q', cstr('SELECT 41 + 1')))
      await expect.poll(next.ready).toBe(2)
      expect(next.text()).toContain('42')
      next.send(typed('X'))
      await expect.poll(next.closed).toBe(true)
    } finally {
      await server.close()
    }
  })

  it('ends an idle connection with 57P05 when another is waiting, so a stuck client cannot block the queue', async () => {
    const server = await startPgliteServer({ db: pglite, idleMs: 200 })
    try {
      const idle = rawClient(server.port)
      idle.send(startup)
      await expect.poll(idle.ready).toBe(1)
      const next = rawClient(server.port)
      next.send(startup)
      await expect.poll(next.ready).toBe(1)
      await expect.poll(idle.closed).toBe(true)
      expect(idle.text()).toContain('C57P05\0Mterminating connection due to idle-session timeout')
      next.send(typed('X'))
    } finally {
      await server.close()
    }
  })
})
