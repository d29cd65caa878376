import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { Client, neonConfig } from '@neondatabase/serverless'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { DatabaseConfig } from '../../src/config'
import { withDb } from '../../src/db/connect'
import { checkAndRun } from '../../src/db/guarded-sql'
// @ts-expect-error plain ESM JavaScript tool
import { startPgliteServer } from '../../tools/pglite-server/server.mjs'
// @ts-expect-error plain ESM JavaScript tool
import { startWsRelay } from '../../tools/ws-relay/relay.mjs'
// @ts-expect-error plain ESM JavaScript script
import { startDemoDatabase } from '../../scripts/demo-database.mjs'

type Stats = { serving: boolean; waiting: number; served: number; refused: number; resetFailures: number }
type Demo = { url: string; port: number; stats: () => Stats; close: () => Promise<void> }
type Relay = { proxy: string; close: () => Promise<void> }

neonConfig.webSocketConstructor = WebSocket
let relay: Relay
// One demo database for the file, on disk so its size can be measured (loading it takes ~30 s here).
let demo: Demo
let dir: string

beforeAll(async () => {
  relay = await startWsRelay({ port: 0 })
  dir = mkdtempSync(join(tmpdir(), 'txt2sql-demo-db-'))
  demo = await startDemoDatabase({ dataDir: dir })
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
    expect(demo.stats()).toMatchObject({ serving: false, waiting: 0, resetFailures: 0 })
  })
})

describe('the demo database under many concurrent checks', () => {
  const dirBytes = () => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0])

  it('200 checks at once all pass, and neither the data directory nor the process grows without bound', async () => {
    // Warm up first, so what is measured is growth, not first use.
    for (let i = 0; i < 5; i++) await check(demo.url, GOOD)
    const before = { dir: dirBytes(), rss: process.memoryUsage().rss }
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => check(demo.url, i % 2 ? GOOD : 'SELECT l.name, count(*) FROM station_lines sl JOIN lines l ON l.id = sl.line_id GROUP BY l.name')))
    expect(results.filter((r) => r.check.ok).length).toBe(200)
    const after = { dir: dirBytes(), rss: process.memoryUsage().rss }
    // Read-only checks write nothing but WAL for hint bits and the like; the earlier shared-session
    // server grew to gigabytes under 1,000.
    expect(after.dir - before.dir).toBeLessThan(32 * 1024 * 1024)
    expect(after.rss - before.rss).toBeLessThan(256 * 1024 * 1024)
    expect(demo.stats()).toMatchObject({ serving: false, waiting: 0, served: expect.any(Number), resetFailures: 0 })
    console.log(`[demo-db] 200 concurrent checks: data dir ${(before.dir / 1048576).toFixed(1)} → ${(after.dir / 1048576).toFixed(1)} MiB, test process RSS ${(before.rss / 1048576).toFixed(0)} → ${(after.rss / 1048576).toFixed(0)} MiB`)
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
